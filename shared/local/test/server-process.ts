// The local server started the way `npm start` starts it (the bootstrap script, its own
// process), and a small HTTP client for the end-to-end tests that drive it.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { expect } from 'vitest'

export const root = resolve(import.meta.dirname, '../../..')

export interface Job {
  jobId: string
  status: string
  videos: { total: number; indexed: number; failed: number }
  errors: { videoId?: string; message: string }[]
}
export interface Hit {
  videoId: string
  title: string
  start: number
  end: number
  text: string
  url: string
}

export const freePort = () =>
  new Promise<number>((done) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => done(port))
    })
  })

export interface ServerProcess {
  base: string
  /** The process that serves (bootstrap starts pnpm, which starts tsx, which starts it): for its memory. */
  serverPid(): number
  /** Each function's internal loopback address, as the server logged it at start-up. */
  functionUrls(): Record<string, string>
  /** Everything the server printed so far, for failure messages. */
  output(): string
  call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }>
  ingest(url: string, extra?: object): Promise<string>
  waitForJob(jobId: string): Promise<Job>
  search(query: string, limit?: number): Promise<Hit[]>
  stop(): Promise<void>
}

/**
 * Spawns `node scripts/bootstrap.mjs serve` with `env` over the test's environment and waits
 * until `/health/ready` answers 200.
 *
 * @example
 * const server = await startServerProcess({ YOUTUBE_RAG__STORAGE__DIR: dir })
 * const jobId = await server.ingest(url)
 */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let output = ''
  const child: ChildProcess = spawn(process.execPath, [join(root, 'scripts/bootstrap.mjs'), 'serve'], {
    cwd: root,
    env: { ...process.env, YOUTUBE_RAG_SKIP_INSTALL: '1', YOUTUBE_RAG__SERVER__PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((done) => child.once('exit', done))
    child.kill('SIGTERM')
    await exited
  }

  const deadline = Date.now() + 60_000
  for (;;) {
    const ready = await fetch(`${base}/health/ready`).then((r) => r.status, () => 0)
    if (ready === 200) break
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`the server did not start:\n${output}`)
    }
    await new Promise((done) => setTimeout(done, 200))
  }

  const call = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
    })
    return { status: response.status, body: (await response.json()) as T, headers: response.headers }
  }
  const ingest = async (url: string, extra: object = {}) => {
    const answer = await call<{ jobId: string; status: string }>('POST', '/v1/ingest', { url, ...extra })
    expect(answer.status, JSON.stringify(answer.body)).toBe(202)
    return answer.body.jobId
  }
  const waitForJob = async (jobId: string): Promise<Job> => {
    const deadline = Date.now() + 120_000
    for (;;) {
      const { body } = await call<Job>('GET', `/v1/jobs/${jobId}`)
      if (!['queued', 'running'].includes(body.status)) return body
      if (Date.now() > deadline) throw new Error(`job ${jobId} still ${body.status}: ${JSON.stringify(body)}\n${output.slice(-3000)}`)
      await new Promise((done) => setTimeout(done, 200))
    }
  }
  const search = async (query: string, limit = 10) => (await call<{ hits: Hit[] }>('POST', '/v1/search', { query, limit })).body.hits

  const serverPid = () => {
    const found = descendants(child.pid!).filter((pid) => readProc(pid, 'cmdline').includes('shared/local/src/main.ts'))
    // The deepest one is the Node process running main.ts, not the wrappers that started it.
    const pid = found.at(-1)
    if (pid === undefined) throw new Error(`no process of the server found under ${child.pid}`)
    return pid
  }
  const functionUrls = () => {
    for (const line of output.split('\n')) {
      if (!line.includes('"functions"')) continue
      try {
        const parsed = JSON.parse(line) as { functions?: Record<string, string> }
        if (parsed.functions) return parsed.functions
      } catch {
        // Not a log line.
      }
    }
    throw new Error(`the server did not log its functions' addresses:\n${output}`)
  }

  return { base, serverPid, functionUrls, output: () => output, call, ingest, waitForJob, search, stop }
}

const readProc = (pid: number, file: string) => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

/** The processes under `pid`, parents before children (Linux /proc). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    // The parent is the 2nd field after the command, which is in parentheses and may hold spaces.
    const stat = readProc(Number(entry), 'stat')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    parents.set(Number(entry), ppid)
  }
  const found: number[] = []
  let level = [pid]
  while (level.length > 0) {
    level = [...parents].filter(([, ppid]) => level.includes(ppid)).map(([child]) => child)
    found.push(...level)
  }
  return found
}

/**
 * The resident memory of a process in bytes (VmRSS of /proc/<pid>/status).
 *
 * @example
 * const before = residentBytes(server.serverPid())
 */
export function residentBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readProc(pid, 'status'))?.[1]
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`)
  return Number(kb) * 1024
}
