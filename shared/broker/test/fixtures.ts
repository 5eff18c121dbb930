import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { knativeBaseDir } from '../src/manifests/index.ts'

/**
 * Temporary directories for manifest fixtures, removed by `cleanup()` (call it in afterAll).
 *
 * @example
 * ```ts
 * const dirs = tempDirs()
 * afterAll(dirs.cleanup)
 * const base = dirs.copyOfKnativeBase()
 * ```
 */
export function tempDirs() {
  const made: string[] = []
  const make = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ytrag-broker-'))
    made.push(dir)
    return dir
  }
  return {
    /** A fresh empty directory. */
    empty: make,
    /** A fresh directory holding the given files (paths relative to it). */
    withFiles(files: Record<string, string>): string {
      const dir = make()
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true })
        writeFileSync(join(dir, path), text)
      }
      return dir
    },
    /** A copy of the project's knative/base. */
    copyOfKnativeBase(): string {
      const dir = make()
      cpSync(knativeBaseDir, dir, { recursive: true })
      return dir
    },
    cleanup() {
      for (const dir of made) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Removes the Trigger named `name` from triggers.yaml in `dir`; throws when it is not there. */
export function removeTrigger(dir: string, name: string) {
  const file = join(dir, 'triggers.yaml')
  const documents = readFileSync(file, 'utf8').split(/^---$/m)
  const kept = documents.filter((document) => !new RegExp(`^  name: ${name}$`, 'm').test(document))
  if (kept.length !== documents.length - 1) throw new Error(`expected exactly one Trigger ${name} in ${file}`)
  writeFileSync(file, kept.join('---'))
}
