// What a video's download and a job's listing do when YouTube refuses this server (a bot check,
// a 429): the same host backoff the channel re-sync keeps (every replica shares it, through the
// document store), so nobody sends it more while it lasts.
//
// Decided: work that meets a backoff fails at once, with the same advice, rather than wait. A
// backoff lasts CHANNELS__RATE_LIMIT_BACKOFF_SECONDS (15 minutes by default), longer than any
// delivery may take; waiting would hold the delivery until Knative cut it off, then the Broker
// would send it again, again into the backoff. Failing records why on the video and its job (the
// user sees the settings that answer it) and answers 2xx, so the Broker does not retry it in a
// tight loop. Ingesting the video again after the backoff gives it a fresh try.
import { isYouTubeUrl } from '../youtube-url/index.ts'
import { BLOCKED_ADVICE, BlockedByYouTubeError } from '../ytdlp/errors.ts'

/** What the backoff needs of the document store (`DocumentStore` has it). */
export interface HostBackoffStore {
  hostBackoff(host: string, now: Date): Promise<{ until: string; reason?: string } | undefined>
  backOffHost(host: string, until: Date, reason: string): Promise<void>
}

export type HostBackoffOptions = {
  store: HostBackoffStore
  /** How long a refusing host is left alone (CHANNELS__RATE_LIMIT_BACKOFF_SECONDS). */
  backoffSeconds: number
  /** Called when this work backs the host off (a log line). */
  onBackoff?: (backoff: { host: string; until: string; reason: string }) => void
}

/**
 * The host a URL's backoff is kept under. YouTube refuses an address, not one of its names: a
 * bot check met on youtu.be holds for www.youtube.com too, so all of them are `www.youtube.com`
 * (the host the channel re-sync spaces its requests by).
 *
 * @example
 * backoffHostOf('https://youtu.be/dQw4w9WgXcQ') // 'www.youtube.com'
 * backoffHostOf('https://vimeo.com/1') // 'vimeo.com'
 */
export function backoffHostOf(url: string): string {
  if (isYouTubeUrl(url)) return 'www.youtube.com'
  try {
    return new URL(url).host
  } catch {
    return url
  }
}

/**
 * Runs `work` (yt-dlp reading `url`) unless the URL's host is backed off. While it is, throws a
 * `BlockedByYouTubeError` at once, naming the backoff's end and the settings that answer it; no
 * request is sent. When the work throws a `BlockedByYouTubeError`, backs the host off for
 * everyone, then rethrows it.
 *
 * @example
 * ```ts
 * try {
 *   const info = await underHostBackoff(url, { store: stores.documents, backoffSeconds: 900 }, () => videoInfo(url, item, ytdlp))
 * } catch (error) {
 *   if (error instanceof BlockedByYouTubeError) return fail(error.message) // 2xx, recorded on the job
 * }
 * ```
 */
export async function underHostBackoff<T>(
  url: string,
  options: HostBackoffOptions,
  work: () => Promise<T>,
): Promise<T> {
  const host = backoffHostOf(url)
  const running = await options.store.hostBackoff(host, new Date())
  if (running) {
    const why = running.reason ? ` after ${running.reason}` : ''
    throw new BlockedByYouTubeError(
      `${host} is left alone until ${running.until}${why}; nothing was sent to it. ${BLOCKED_ADVICE}`,
      { url },
    )
  }
  try {
    return await work()
  } catch (error) {
    if (error instanceof BlockedByYouTubeError) {
      const until = new Date(Date.now() + options.backoffSeconds * 1000)
      const reason = error.detail ?? error.message
      await options.store.backOffHost(host, until, reason)
      options.onBackoff?.({ host, until: until.toISOString(), reason })
    }
    throw error
  }
}
