// Scratch folders for yt-dlp and ffmpeg (caption files, downloaded audio). Each is removed when
// its step ends, but a process killed mid-step (kill -9, OOM) leaves its folders behind, and
// downloaded audio can be hundreds of megabytes. The folder's name carries the pid of the process
// that made it, so a later process can tell an abandoned folder from one still in use.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { processAlive } from '@ytrag/processes'

const SCRATCH = /^ytrag-[a-z]+-(\d+)-/

/**
 * Makes a scratch folder `ytrag-<purpose>-<pid>-XXXXXX` in `parent` (default: the system's temp folder).
 *
 * @example
 * const dir = await scratchDir('audio') // /tmp/ytrag-audio-4242-a1B2c3
 */
export const scratchDir = (purpose: string, parent = tmpdir()) =>
  mkdtemp(join(parent, `ytrag-${purpose}-${process.pid}-`))

/**
 * Removes the scratch folders of processes that are gone; returns how many. Called once at
 * start-up, so a restart after a crash cleans up after it.
 *
 * @example
 * await sweepAbandonedScratchDirs() // 3 after a kill -9 in the middle of three downloads
 */
export async function sweepAbandonedScratchDirs(parent = tmpdir()): Promise<number> {
  const names = await readdir(parent).catch(() => [] as string[])
  let removed = 0
  for (const name of names) {
    const pid = SCRATCH.exec(name)?.[1]
    if (pid === undefined || processAlive(Number(pid))) continue
    await rm(join(parent, name), { recursive: true, force: true })
    removed++
  }
  return removed
}
