// Gives the memory of a burst of requests back to the system once the process is idle.
//
// After a burst, V8 keeps its old generation at the size the burst grew it to: no full GC runs
// while nothing allocates, and V8's memory reducer, which should shrink the heap then, measures
// the allocation rate at GCs that an idle process no longer has (it kept reporting "high alloc"
// for minutes after the api's search benchmark). Even a full GC keeps freed pages pooled and
// resident. The api went from 105 to 195 MB under 32 clients and idled at 134–163 MB. A
// last-resort GC (what V8 does on a low-memory notification: full GCs until nothing more is
// freed, then the pooled pages unmapped) after a quiet spell gives them back, at ~50–100 ms of
// one thread that no request is waiting on.
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

export interface IdleMemoryOptions {
  /** How long without a request (none in flight) before memory is given back. 0 never. Default 10 000 ms. */
  idleMs?: number
  /**
   * How much the V8 heap must have grown since the last release (or since watching began) for
   * the next one to be worth its pause: a process that served a handful of requests keeps its
   * memory. Default 8 MB.
   */
  minGrowthBytes?: number
  /** Told each release's figures (a log line, a metric). */
  onRelease?: (release: MemoryRelease) => void
}

/** One release: the V8 heap's committed bytes and the process's resident bytes before and after, and the pause. */
export interface MemoryRelease {
  heapBefore: number
  heapAfter: number
  rssBefore: number
  rssAfter: number
  ms: number
}

/** Requests that say nothing about use: Knative's and Prometheus's, every few seconds, whether anyone uses the server or not. */
const isProbe = (url: string | undefined) => url === '/metrics' || (url?.startsWith('/health/') ?? false)

type GcOptions = { type: 'major'; flavor: 'last-resort' }
let collect: ((options: GcOptions) => void) | undefined
/**
 * V8's `gc`, got once without exposing it to the process: the flag is on only while a context
 * of our own is made, so no other code (nor a later context) sees a `gc` global.
 */
function gcFunction(): (options: GcOptions) => void {
  if (!collect) {
    setFlagsFromString('--expose-gc')
    try {
      collect = runInNewContext('gc') as (options: GcOptions) => void
    } finally {
      setFlagsFromString('--no-expose-gc')
    }
  }
  return collect
}

/**
 * The process's one idle clock: every watched server's requests keep it busy (the local server
 * runs all functions in one process, and a delivery to one is use of all).
 */
const clock = {
  inFlight: 0,
  lastActivity: 0,
  timer: undefined as NodeJS.Timeout | undefined,
  /** The heap's committed bytes after the last release, or when watching began. */
  baseline: 0,
  watchers: new Set<Required<Pick<IdleMemoryOptions, 'idleMs' | 'minGrowthBytes'>> & IdleMemoryOptions>(),
}

function arm(ms: number): void {
  clock.timer = setTimeout(check, ms)
  // Never what keeps a process alive.
  clock.timer.unref()
}

/** The longest idle time and the smallest growth of the servers watched decide. */
function settings(): { idleMs: number; minGrowthBytes: number } {
  let idleMs = 0
  let minGrowthBytes = Number.POSITIVE_INFINITY
  for (const watcher of clock.watchers) {
    idleMs = Math.max(idleMs, watcher.idleMs)
    minGrowthBytes = Math.min(minGrowthBytes, watcher.minGrowthBytes)
  }
  return { idleMs, minGrowthBytes }
}

function check(): void {
  clock.timer = undefined
  if (clock.watchers.size === 0) return
  const { idleMs, minGrowthBytes } = settings()
  const quiet = performance.now() - clock.lastActivity
  if (clock.inFlight > 0 || quiet < idleMs) {
    arm(clock.inFlight > 0 ? idleMs : idleMs - quiet)
    return
  }
  const heapBefore = getHeapStatistics().total_heap_size
  if (heapBefore - clock.baseline < minGrowthBytes) return
  const rssBefore = process.memoryUsage.rss()
  const started = performance.now()
  gcFunction()({ type: 'major', flavor: 'last-resort' })
  const release: MemoryRelease = {
    heapBefore,
    heapAfter: getHeapStatistics().total_heap_size,
    rssBefore,
    rssAfter: process.memoryUsage.rss(),
    ms: performance.now() - started,
  }
  clock.baseline = release.heapAfter
  // Once each: a function's two servers are watched with the same options.
  for (const onRelease of new Set([...clock.watchers].map((watcher) => watcher.onRelease))) onRelease?.(release)
}

function onRequest(request: IncomingMessage, response: ServerResponse): void {
  if (isProbe(request.url)) return
  clock.inFlight++
  clock.lastActivity = performance.now()
  response.once('close', () => {
    clock.inFlight--
    clock.lastActivity = performance.now()
  })
  if (!clock.timer) arm(settings().idleMs)
}

/**
 * Watches `server`'s requests and, once the process has had none for `idleMs` after some,
 * gives the memory they grew the heap by back to the system (see the top of this file). Probes
 * (`/health/*`, `/metrics`) are not use. Returns what stops watching.
 *
 * @example
 * const stop = releaseMemoryWhenIdle(server, { idleMs: 10_000, onRelease: (release) => logger.debug(release, 'memory released') })
 */
export function releaseMemoryWhenIdle(
  server: Server,
  { idleMs = 10_000, minGrowthBytes = 8 * 1024 * 1024, onRelease }: IdleMemoryOptions = {},
): () => void {
  if (!Number.isFinite(idleMs) || idleMs < 0) throw new RangeError(`idleMs must be ≥ 0, got ${idleMs}`)
  if (idleMs === 0) return () => {}
  const watcher = { idleMs, minGrowthBytes, ...(onRelease ? { onRelease } : {}) }
  if (clock.watchers.size === 0) clock.baseline = getHeapStatistics().total_heap_size
  clock.watchers.add(watcher)
  server.on('request', onRequest)
  return () => {
    server.off('request', onRequest)
    clock.watchers.delete(watcher)
    if (clock.watchers.size === 0 && clock.timer) {
      clearTimeout(clock.timer)
      clock.timer = undefined
    }
  }
}

/**
 * The options a process's servers are watched with: the configured idle time (the config's
 * `server.idleMemoryReleaseMs`), each release logged at debug.
 *
 * @example
 * await serveApp(app, { port, idleMemory: loggedIdleMemory(config.server.idleMemoryReleaseMs, logger) })
 */
export const loggedIdleMemory = (
  idleMs: number,
  logger: { debug(fields: object, message: string): void },
): IdleMemoryOptions => ({ idleMs, onRelease: (release) => logger.debug(release, 'idle: memory given back') })
