// What one yt-dlp run reports, published on a diagnostics channel (node:diagnostics_channel):
// the function layer turns it into metrics. No imports, so a subscriber loads nothing else.

/** The channel every yt-dlp run is published on, once, when it is over. */
export const YTDLP_RUN_CHANNEL = 'ytrag.ytdlp.run'

/** What yt-dlp was asked to do: a bounded set, so it can label a metric. */
export type YtDlpTask = 'list' | 'info' | 'captions' | 'audio' | 'other'

/**
 * How a run ended: `ok`, or the failure's class: the video cannot be had (`unavailable`), the site
 * asked for proof of a person (`bot_check`) or refused for too many requests (`rate_limited`),
 * the run was stopped at its timeout (`timeout`), or anything else (`error`).
 */
export type YtDlpOutcome = 'ok' | 'unavailable' | 'bot_check' | 'rate_limited' | 'timeout' | 'error'

export interface YtDlpRunMessage {
  task: YtDlpTask
  seconds: number
  outcome: YtDlpOutcome
}
