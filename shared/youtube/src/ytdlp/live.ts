// Live streams and premieres: what yt-dlp says about them, and why such a video is not read yet.
// A stream on air, one not started, or one just ended that YouTube is still processing has no
// complete captions or audio to index; it is skipped (not failed) and read again later.
import type { LiveStatus } from '@ytrag/domain'
import { YtDlpError } from './errors.ts'

const LIVE_STATUSES = new Set<string>(['is_live', 'is_upcoming', 'post_live', 'was_live', 'not_live'])

/**
 * A video's live status from its info JSON: `live_status`, else the older `is_live` and
 * `was_live` flags; undefined when the site says nothing (most sites other than YouTube).
 *
 * @example
 * ```ts
 * liveStatusOf({ live_status: 'is_upcoming', release_timestamp: 1767225600 }) // 'is_upcoming'
 * liveStatusOf({ is_live: true })                                            // 'is_live'
 * ```
 */
export function liveStatusOf(info: Record<string, unknown>): LiveStatus | undefined {
  const status = info.live_status
  if (typeof status === 'string' && LIVE_STATUSES.has(status)) return status as LiveStatus
  if (info.is_live === true) return 'is_live'
  if (info.was_live === true) return 'was_live'
  return undefined
}

const NOT_READY: Partial<Record<LiveStatus, string>> = {
  is_live: 'a live stream still on air; it is read again once it has ended',
  is_upcoming: 'a live stream or premiere that has not started yet; it is read again once it has been shown',
  post_live:
    'a live stream that has just ended and is still being processed; it is read again once it has been processed',
}

/**
 * Why a video with this live status is not read now, or undefined when it can be read (an
 * ordinary video, or a stream that has ended and been processed: `was_live`). An upcoming
 * one's scheduled start is named when known.
 *
 * @example
 * ```ts
 * liveSkipReason('is_live')  // 'a live stream still on air; it is read again once it has ended'
 * liveSkipReason('is_upcoming', '2030-01-01T18:00:00.000Z') // '… once it has been shown (scheduled for 2030-01-01T18:00:00.000Z)'
 * liveSkipReason('was_live') // undefined
 * ```
 */
export function liveSkipReason(status: LiveStatus | undefined, scheduledFor?: string): string | undefined {
  const reason = status === undefined ? undefined : NOT_READY[status]
  return reason && status === 'is_upcoming' && scheduledFor ? `${reason} (scheduled for ${scheduledFor})` : reason
}

// YouTube's words for a stream or premiere not started, which yt-dlp gives as its error (it has
// no formats to offer yet): "This live event will begin in 3 hours.", "… in a few moments.",
// "Premieres in 2 days", "Premiere will begin shortly".
const NOT_STARTED = [
  /\blive event will begin\b/i,
  /\bpremieres? in\b/i,
  /\bpremiere will begin\b/i,
  /\blive stream (?:will begin|is scheduled)\b/i,
]

/**
 * Whether a yt-dlp failure is YouTube refusing a stream or premiere that has not started: not a
 * failure of the video, which can be read once it has been shown.
 *
 * @example
 * ```ts
 * try { await videoInfo(url, undefined, options) } catch (error) {
 *   if (isNotStartedError(error)) return skip(liveSkipReason('is_upcoming'))
 * }
 * ```
 */
export function isNotStartedError(error: unknown): boolean {
  if (!(error instanceof YtDlpError)) return false
  const said = error.detail ?? error.message
  return NOT_STARTED.some((pattern) => pattern.test(said))
}
