// The local server started the way `npm start` starts it (the bootstrap script, its own
// process), and a small HTTP client for the end-to-end tests that drive it.
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
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
  /** Where the sentence that best matches the query starts; `url` links there. */
  moment: number
  text: string
  url: string
  /** The chapter the passage starts in, for a video with chapters. */
  chapter?: { title: string; start: number }
}

export interface ServerProcess {
  base: string
  port: number
  /** The bootstrap script's pid: the root of the server's process tree. */
  pid: number
  /** The process that serves (bootstrap starts pnpm, which starts tsx, which starts it): for its memory. */
  serverPid(): number
  /** Each function's internal loopback address, as the server logged it at start-up. */
  functionUrls(): Record<string, string>
  /** Everything the server printed so far, for failure messages. */
  output(): string
  /**
   * Calls `listener` with every whole line the server prints (stdout and stderr), as it comes;
   * the log lines are pino JSON. Gives a function that removes the listener.
   */
  onLine(listener: (line: string) => void): () => void
  /** The processes the server runs as now (bootstrap, pnpm, tsx, node, yt-dlp, ffmpeg…). */
  processes(): ProcessInfo[]
  /**
   * Kills the whole process tree with SIGKILL, as a crash or an OOM kill of the container
   * would: nothing gets to clean up. Resolves once every process is gone and the port is free;
   * gives what was killed.
   */
  kill(): Promise<ProcessInfo[]>
  call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }>
  ingest(url: string, extra?: object): Promise<string>
  waitForJob(jobId: string): Promise<Job>
  search(query: string, limit?: number): Promise<Hit[]>
  stop(): Promise<void>
}

export interface ProcessInfo {
  pid: number
  ppid: number
  /** The process group: bootstrap.mjs starts pnpm in a group of its own. */
  pgid: number
  /** The kernel's short name: node, pnpm, sh, python3 (yt-dlp), ffmpeg… */
  comm: string
  /** R, S, D, T (stopped), Z (exited, not yet reaped)… */
  state: string
  /**
   * When it started, in clock ticks since boot: with it a pid names one process. Pids are
   * reused (pid_max is 32768 here, and a test run wraps it), so a pid alone, kept while a
   * server stops, can name another test's server by then.
   */
  startTime: number
}

/** One process's line of /proc/<pid>/stat, or undefined once it is gone. */
function readProcess(pid: number): ProcessInfo | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The name is in parentheses and may itself hold spaces or parentheses: split after the last ')'.
  const close = stat.lastIndexOf(')')
  const fields = stat.slice(close + 2).split(' ')
  const [state = '', ppid = '0', pgid = '0'] = fields
  // Field 22 of stat(5), counted from the state (field 3) here.
  const startTime = Number(fields[19] ?? 0)
  return {
    pid,
    ppid: Number(ppid),
    pgid: Number(pgid),
    comm: stat.slice(stat.indexOf('(') + 1, close),
    state,
    startTime,
  }
}

/**
 * `root` and every process below it, read from /proc (Linux). Zombies count as gone: they have
 * exited and only wait for a parent to reap them. A root that has exited has no tree, even if
 * its pid has been given to another process since (another test's server, once pid_max wraps):
 * listing that process's tree is how one test's stop() killed another's server.
 */
function processTree(root: ProcessInfo): ProcessInfo[] {
  if (!alive(root)) return []
  const all = new Map<number, ProcessInfo>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const info = readProcess(Number(name))
    if (info && info.state !== 'Z') all.set(info.pid, info)
  }
  const tree: ProcessInfo[] = []
  const rootInfo = all.get(root.pid)
  if (rootInfo) tree.push(rootInfo)
  const wanted = new Set([root.pid])
  // Children can be listed before their parents: repeat until no new descendant turns up.
  for (let grew = true; grew; ) {
    grew = false
    for (const info of all.values()) {
      if (!wanted.has(info.pid) && wanted.has(info.ppid)) {
        wanted.add(info.pid)
        tree.push(info)
        grew = true
      }
    }
  }
  return tree
}

/** Whether the process `info` names is still running: the same pid and the same start. */
const alive = (info: ProcessInfo) => {
  const now = readProcess(info.pid)
  return now !== undefined && now.startTime === info.startTime && now.state !== 'Z'
}

const signal = (pid: number, name: NodeJS.Signals) => {
  try {
    process.kill(pid, name)
  } catch {
    // already gone
  }
}

/**
 * SIGKILLs `root` and all its descendants, leaving none behind. The tree is frozen first with
 * SIGSTOP, top down and again until no new process turns up, so that nothing can fork a child
 * or be reparented away between the listing and the kill; then each process and each process
 * group seen gets SIGKILL (bootstrap.mjs runs pnpm detached, in a group of its own).
 * Resolves once none of them is alive; gives what was killed.
 */
async function killProcessTree(root: ProcessInfo): Promise<ProcessInfo[]> {
  const seen = new Map<number, ProcessInfo>()
  for (let round = 0; round < 100; round++) {
    let added = false
    for (const info of processTree(root)) {
      if (seen.has(info.pid)) continue
      seen.set(info.pid, info)
      signal(info.pid, 'SIGSTOP')
      added = true
    }
    if (!added) break
  }
  const groups = new Set([...seen.values()].map((info) => info.pgid))
  // Never our own group: the test runner would go with it.
  groups.delete(readProcess(process.pid)?.pgid ?? -1)
  for (const pgid of groups) signal(-pgid, 'SIGKILL')
  for (const pid of seen.keys()) signal(pid, 'SIGKILL')
  const deadline = Date.now() + 10_000
  for (;;) {
    const left = [...seen.values()].filter(alive).map((info) => info.pid)
    if (left.length === 0) break
    if (Date.now() > deadline) throw new Error(`processes still alive 10 s after SIGKILL: ${left.join(', ')}`)
    await new Promise((done) => setTimeout(done, 20))
  }
  return [...seen.values()]
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
const portInUse = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      done(true)
    })
    socket.once('error', () => done(false))
  })

/**
 * Spawns `node scripts/bootstrap.mjs serve` with `env` over the test's environment and waits
 * until `/health/ready` answers 200.
 *
 * @example
 * const server = await startServerProcess({ YOUTUBE_RAG__STORAGE__DIR: dir })
 * const jobId = await server.ingest(url)
 * await server.kill() // SIGKILL, the whole tree
 */
export async function startServerProcess(
  env: Record<string, string>,
  options: { onLine?: (line: string) => void } = {},
): Promise<ServerProcess> {
  // The server takes a port the kernel gives it (0) and says which: a port probed free here could
  // be taken by any listener of the other test files before the server binds it.
  let base = ''
  let port = 0
  let output = ''
  const listeners = new Set<(line: string) => void>(options.onLine ? [options.onLine] : [])
  const child: ChildProcess = spawn(process.execPath, [join(root, 'scripts/bootstrap.mjs'), 'serve'], {
    cwd: root,
    // The machine's yt-dlp, never a download: a test must not depend on the network.
    env: {
      ...process.env,
      YOUTUBE_RAG_SKIP_INSTALL: '1',
      YOUTUBE_RAG__SERVER__PORT: '0',
      YOUTUBE_RAG__YTDLP__LOCAL_DOWNLOAD: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const pid = child.pid!
  // Read now, while the bootstrap surely runs: its start time tells it from a later holder of its pid.
  const rootProcess = readProcess(pid) ?? { pid, ppid: 0, pgid: 0, comm: '', state: 'Z', startTime: -1 }
  // Lines of stdout and of stderr are put together separately, so one never cuts into the other.
  const lineReader = () => {
    let partial = ''
    return (chunk: Buffer) => {
      const text = chunk.toString()
      output += text
      const lines = (partial + text).split('\n')
      partial = lines.pop()!
      for (const line of lines) for (const listener of listeners) listener(line)
    }
  }
  child.stdout!.on('data', lineReader())
  child.stderr!.on('data', lineReader())
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const hasExited = () => child.exitCode !== null || child.signalCode !== null

  const kill = async () => {
    const killed = await killProcessTree(rootProcess)
    await exited
    const deadline = Date.now() + 5_000
    while (await portInUse(port)) {
      if (Date.now() > deadline) throw new Error(`port ${port} still answers after the server was killed`)
      await new Promise((done) => setTimeout(done, 20))
    }
    return killed
  }

  const stop = async () => {
    // Listed first: once the bootstrap exits, what is left of the tree is reparented and no
    // longer found under its pid.
    const tree = processTree(rootProcess)
    if (!hasExited()) child.kill('SIGTERM')
    const deadline = Date.now() + 15_000
    while (tree.some(alive) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50))
    // A graceful stop that hangs (a delivery that never ends) must not leave the server behind.
    for (const info of tree) if (alive(info)) signal(info.pid, 'SIGKILL')
    await exited
  }

  const deadline = Date.now() + 60_000
  for (;;) {
    // What `npm start` prints once it listens: "youtube-rag is listening on http://127.0.0.1:PORT …".
    const announced = /youtube-rag is listening on (http:\/\/[^\s]+:(\d+))/.exec(output)
    if (announced && !base) {
      base = announced[1]!
      port = Number(announced[2])
    }
    const ready = base
      ? await fetch(`${base}/health/ready`).then(
          (r) => r.status,
          () => 0,
        )
      : 0
    if (ready === 200) break
    if (hasExited() || Date.now() > deadline) {
      await stop()
      throw new Error(`the server did not start:\n${output}`)
    }
    await new Promise((done) => setTimeout(done, 100))
  }

  const call = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : {
            headers: { 'content-type': 'application/json' },
            body: typeof body === 'string' ? body : JSON.stringify(body),
          }),
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
      if (Date.now() > deadline)
        throw new Error(`job ${jobId} still ${body.status}: ${JSON.stringify(body)}\n${output.slice(-3000)}`)
      await new Promise((done) => setTimeout(done, 200))
    }
  }
  const search = async (query: string, limit = 10) =>
    (await call<{ hits: Hit[] }>('POST', '/v1/search', { query, limit })).body.hits

  const serverPid = () => {
    const found = descendants(rootProcess).filter((pid) => readProc(pid, 'cmdline').includes('apps/local/src/main.ts'))
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

  return {
    base,
    port,
    pid,
    serverPid,
    functionUrls,
    output: () => output,
    onLine(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    processes: () => processTree(rootProcess),
    kill,
    call,
    ingest,
    waitForJob,
    search,
    stop,
  }
}

const readProc = (pid: number, file: string) => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

/** The processes under `pid`, parents before children (Linux /proc). */
function descendants(root: ProcessInfo): number[] {
  return processTree(root)
    .filter((info) => info.pid !== root.pid)
    .map((info) => info.pid)
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
