import { tmpdir } from 'node:os'
import { constants, mkdirSync } from 'node:fs'
import { access, statfs } from 'node:fs/promises'
import { ConfigError, type Config } from '@ytrag/config'
import type { ReadinessCheck } from '../factory/index.ts'

/** Below this much free space the storage directory counts as full: a transcript or a database page may not fit. */
export const MIN_FREE_BYTES = 100 * 1024 * 1024

export type DiskSpaceOptions = {
  /** Below this many free bytes the folder counts as full. Default `MIN_FREE_BYTES` (100 MB). */
  minFreeBytes?: number
  /** What the folder is, in the readiness answer. Default `'storage directory'`. */
  label?: string
  /** The setting that chooses the folder, named in the message. Default `YOUTUBE_RAG__STORAGE__DIR`. */
  setting?: string
}

/**
 * Ready while `dir` has at least `minFreeBytes` free: the storage directory (local mode), or the
 * scratch folder where download and transcribe keep captions and audio while they work.
 *
 * @example
 * diskSpaceCheck('./.youtube-rag')
 * diskSpaceCheck(tmpdir(), { label: 'scratch space', setting: 'TMPDIR (the pod's /tmp emptyDir)' })
 */
export function diskSpaceCheck(
  dir: string,
  {
    minFreeBytes = MIN_FREE_BYTES,
    label = 'storage directory',
    setting = 'YOUTUBE_RAG__STORAGE__DIR',
  }: DiskSpaceOptions = {},
): ReadinessCheck {
  return {
    label,
    async ping() {
      const stats = await statfs(dir)
      const free = stats.bavail * stats.bsize
      if (free < minFreeBytes) {
        throw new Error(
          `${dir} (${setting}) has ${Math.floor(free / 1024 / 1024)} MB free, under the ${Math.floor(minFreeBytes / 1024 / 1024)} MB needed; free some space`,
        )
      }
    },
  }
}

/**
 * The scratch folder's free space (the OS temp folder: in the cluster, the pod's /tmp emptyDir),
 * for the functions that keep captions and audio there while they work.
 */
export const scratchSpaceCheck = () =>
  diskSpaceCheck(tmpdir(), { label: 'scratch space', setting: "TMPDIR, the pod's /tmp emptyDir" })

/**
 * Throws a ConfigError naming the setting when the storage directory cannot be created or
 * written (a read-only mount, another user's folder): said once at start-up, not as a SQLite
 * stack trace.
 *
 * @example
 * assertStorageWritable(config)
 */
export async function assertStorageWritable(config: Config): Promise<void> {
  const dir = config.storage.dir
  try {
    mkdirSync(dir, { recursive: true })
    await access(dir, constants.W_OK)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new ConfigError(
      `YOUTUBE_RAG__STORAGE__DIR: the storage directory ${dir} is not writable (${reason}); point the setting at a folder this user can write`,
    )
  }
}
