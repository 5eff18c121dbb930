// The local server started the way `npm start` starts it (the bootstrap script, its own
// process), and a small HTTP client for the end-to-end tests that drive it.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
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

  return { base, output: () => output, call, ingest, waitForJob, search, stop }
}
