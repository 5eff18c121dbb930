// One cap on the child processes (yt-dlp, ffmpeg) a process runs at once: each costs memory
// and CPU, and a burst of deliveries (a 500-video playlist, or a hostile one) would otherwise
// start one per delivery. Beyond the cap, runs wait their turn in order. A package of its own so
// that functions which run neither (the api, the indexer) set the cap without bringing ffmpeg along.
import { readFileSync } from 'node:fs'
import pLimit from 'p-limit'

/** The default when nothing sets it: small, since one ffmpeg decode can take a core. */
export const DEFAULT_PROCESS_LIMIT = 4

const slots = pLimit(DEFAULT_PROCESS_LIMIT)

/**
 * Sets the cap (`YOUTUBE_RAG__TOOLS__MAX_PROCESSES`); runs already started keep their slot.
 *
 * @example
 * setProcessLimit(config.tools.maxProcesses)
 */
export function setProcessLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`the process limit must be a positive integer, not ${limit}`)
  slots.concurrency = limit
}

/**
 * Runs `start` (which spawns one child process and settles when it ends) within the cap.
 *
 * @example
 * const stdout = await withProcessSlot(() => runChild())
 */
export function withProcessSlot<T>(start: () => Promise<T>): Promise<T> {
  return slots(start)
}

/** How the cap is used now: running, waiting, and the cap itself. */
export const processSlots = () => ({ active: slots.activeCount, pending: slots.pendingCount, limit: slots.concurrency })

/**
 * Whether a process with this pid is still running: what a crash left behind (a temp file, a
 * scratch folder) carries its maker's pid, and is abandoned once that process is gone. A killed
 * process stays a zombie until its parent reaps it, which counts as gone (Linux's /proc says so).
 *
 * @example
 * processAlive(process.pid) // true
 */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    if (/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) return false
  } catch {
    // no /proc entry (gone, or not Linux): ask the kernel below
  }
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
