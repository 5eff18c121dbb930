import { constants, mkdirSync } from 'node:fs'
import { access, statfs } from 'node:fs/promises'
import { ConfigError, type Config } from '@ytrag/config'
import type { ReadinessCheck } from '../factory/index.ts'

/** Below this much free space the storage directory counts as full: a transcript or a database page may not fit. */
export const MIN_FREE_BYTES = 100 * 1024 * 1024

/**
 * Ready while the storage directory has at least `minFreeBytes` free.
 *
 * @example
 * diskSpaceCheck('./.youtube-rag')
 */
export function diskSpaceCheck(dir: string, minFreeBytes = MIN_FREE_BYTES): ReadinessCheck {
  return {
    label: 'storage directory',
    async ping() {
      const stats = await statfs(dir)
      const free = stats.bavail * stats.bsize
      if (free < minFreeBytes) {
        throw new Error(`${dir} (YOUTUBE_RAG__STORAGE__DIR) has ${Math.floor(free / 1024 / 1024)} MB free, under the ${Math.floor(minFreeBytes / 1024 / 1024)} MB needed; free some space`)
      }
    },
  }
}

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
    throw new ConfigError(`YOUTUBE_RAG__STORAGE__DIR: the storage directory ${dir} is not writable (${reason}); point the setting at a folder this user can write`)
  }
}
