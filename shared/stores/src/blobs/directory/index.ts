// Blobs as files under one directory (the embedded local mode). A key is a relative path, so
// `videos/abc/captions.en.vtt` is the file `<dir>/videos/abc/captions.en.vtt`.
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'
import { assertBlobKey, assertBlobPrefix } from '../key-rules/index.ts'
import type { BlobStore } from '../../ports.ts'
import { processAlive } from '@ytrag/processes'

export interface DirectoryBlobStoreOptions {
  /** The root directory; created if missing. */
  dir: string
}

/**
 * A blob being written lives beside its target as `.<name>.<pid>.<uuid>.tmp` until it is renamed
 * into place. A process killed mid-write (kill -9, OOM) leaves its temp files behind; the pid in
 * the name tells a live writer's from an abandoned one.
 */
const TEMP_FILE = /^\.(.+)\.(\d+)\.[0-9a-f-]{36}\.tmp$/

const isMissing = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException).code
  // ENOTDIR/EISDIR: part of the key is a file, or the key names a "directory" — no such blob either way.
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR'
}

/**
 * The BlobStore of the embedded local mode. Content types are not kept: blobs are read back by
 * key, and the key's extension says what they are.
 *
 * @example
 * const blobs = new DirectoryBlobStore({ dir: '.youtube-rag/blobs' })
 * await blobs.put('videos/abc/captions.en.vtt', vtt, 'text/vtt')
 * await blobs.deleteByPrefix('videos/abc/') // 1
 */
export class DirectoryBlobStore implements BlobStore {
  readonly #root: string

  /** The sweep of abandoned temp files started at open; `sweptAbandoned()` waits for it. */
  readonly #sweep: Promise<number>

  constructor({ dir }: DirectoryBlobStoreOptions) {
    this.#root = path.resolve(dir)
    fs.mkdirSync(this.#root, { recursive: true })
    // In the background: what a killed writer left is no blob, and must not stay as an orphan.
    this.#sweep = this.#removeAbandonedTemps(this.#root).catch(() => 0)
  }

  /** Resolves, with how many were removed, once the sweep of abandoned temp files started at open is done. */
  sweptAbandoned(): Promise<number> {
    return this.#sweep
  }

  async #removeAbandonedTemps(dir: string): Promise<number> {
    let entries: fs.Dirent[]
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true })
    } catch (error) {
      if (isMissing(error)) return 0
      throw error
    }
    let removed = 0
    for (const entry of entries) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) removed += await this.#removeAbandonedTemps(full)
      else if (!processAlive(Number(TEMP_FILE.exec(entry.name)?.[2] ?? process.pid))) {
        await fsp.rm(full, { force: true })
        removed++
      }
    }
    return removed
  }

  #file(key: string): string {
    assertBlobKey(key)
    return path.join(this.#root, ...key.split('/'))
  }

  async put(key: string, body: Uint8Array | string, _contentType?: string): Promise<void> {
    const file = this.#file(key)
    await fsp.mkdir(path.dirname(file), { recursive: true })
    // Write beside the target, then rename: a reader sees the old blob or the new one, never half
    // of one. The dot name can never be a key (keys have no dot-leading segment).
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomUUID()}.tmp`)
    try {
      await fsp.writeFile(temp, body)
      await fsp.rename(temp, file)
    } catch (error) {
      await fsp.rm(temp, { force: true })
      throw error
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const buffer = await fsp.readFile(this.#file(key))
      // A plain Uint8Array, so callers comparing bytes are not surprised by Buffer's extras.
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    try {
      const stat = await fsp.stat(this.#file(key))
      return stat.isFile() ? { size: stat.size } : undefined
    } catch (error) {
      if (isMissing(error)) return undefined
      throw error
    }
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    assertBlobPrefix(prefix)
    // A plain string prefix, as on S3: walk the deepest directory the prefix names, and match keys there.
    const slash = prefix.lastIndexOf('/')
    const base = slash === -1 ? '' : prefix.slice(0, slash)
    const start = path.join(this.#root, ...(base ? base.split('/') : []))
    let removed = 0
    const walk = async (dir: string, keyDir: string): Promise<boolean> => {
      let entries: fs.Dirent[]
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true })
      } catch (error) {
        if (isMissing(error)) return false
        throw error
      }
      let emptied = true
      for (const entry of entries) {
        const key = keyDir ? `${keyDir}/${entry.name}` : entry.name
        const full = path.join(dir, entry.name)
        const underPrefix = key.startsWith(prefix) || `${key}/`.startsWith(prefix)
        const temp = TEMP_FILE.exec(entry.name)
        if (temp && entry.isFile() && (keyDir ? `${keyDir}/${temp[1]}` : temp[1]!).startsWith(prefix)) {
          // A write to a deleted key still in flight (or abandoned by a killed writer): it goes
          // too, else a blob of a deleted video could appear after the delete.
          await fsp.rm(full, { force: true })
        } else if (entry.name.startsWith('.') || !underPrefix) {
          emptied = false
        } else if (entry.isDirectory()) {
          if (await walk(full, key)) await fsp.rmdir(full).catch(() => undefined)
          else emptied = false
        } else if (key.startsWith(prefix)) {
          await fsp.rm(full, { force: true })
          removed++
        } else {
          emptied = false
        }
      }
      return emptied
    }
    const emptied = await walk(start, base)
    // Tidy the emptied directory the prefix named, but never the root.
    if (emptied && start !== this.#root) await fsp.rmdir(start).catch(() => undefined)
    return removed
  }

  async ping(): Promise<void> {
    await fsp.mkdir(this.#root, { recursive: true })
    await fsp.access(this.#root, fs.constants.W_OK)
  }
}
