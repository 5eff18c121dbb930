// Vitest globalSetup: makes a MongoDB wire-protocol server available to the tests. With
// MONGODB_URL set (CI's own MongoDB, a developer's server) that one is used; otherwise
// scripts/services/ferretdb.sh starts FerretDB (building it the first time) and its URL is used.
// FerretDB is left running on purpose: the next run, or another package's run, reuses it
// (`bash scripts/services/ferretdb.sh stop` stops it).
//
// Test workers get the URL through `inject('mongodbUrl')`: they may be started before this
// runs, so a change to process.env here is not guaranteed to reach them.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A mongodb:// URL of a running MongoDB or FerretDB, from vitest.global-setup/ferretdb.ts. */
    mongodbUrl: string
  }
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** A first start builds FerretDB from source (about two minutes on two cores), so allow plenty. */
const START_TIMEOUT_MS = 15 * 60_000

/**
 * Starts FerretDB unless MONGODB_URL is set, and provides the URL as `mongodbUrl`.
 *
 * @example
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['vitest.global-setup/ferretdb.ts'] } })
 * // a test
 * const url = inject('mongodbUrl')
 */
export default async function setup(project: TestProject): Promise<void> {
  let url = process.env.MONGODB_URL
  if (!url) {
    url = await startFerretDb()
    // For code in this process (other global setups) and for pools that do inherit it.
    process.env.MONGODB_URL = url
  }
  project.provide('mongodbUrl', url)
}

/** Runs `ferretdb.sh start`: its progress (a first build takes minutes) shows on stderr, its URL comes on stdout. */
function startFerretDb(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['scripts/services/ferretdb.sh', 'start'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: START_TIMEOUT_MS,
    })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.on('error', (error) =>
      reject(new Error(`Could not run scripts/services/ferretdb.sh: ${error.message}`, { cause: error })),
    )
    child.on('close', (code, signal) => {
      const url = stdout.trim().split('\n').at(-1) ?? ''
      if (code === 0 && url.startsWith('mongodb://')) return resolve(url)
      reject(
        new Error(
          `Could not start FerretDB for the MongoDB tests (${signal ? `killed by ${signal}` : `exit code ${code}`}; ` +
            'see the messages above, or set MONGODB_URL to use another server)',
        ),
      )
    })
  })
}
