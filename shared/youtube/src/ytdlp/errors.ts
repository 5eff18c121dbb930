export type YtDlpErrorDetails = {
  /** The URL yt-dlp was working on. */
  url: string
  /** The line of yt-dlp's stderr that says what went wrong, when there is one. */
  detail?: string | undefined
  cause?: unknown | undefined
}

/** yt-dlp failed. `permanent` says whether trying again can help. */
export abstract class YtDlpError extends Error {
  abstract readonly permanent: boolean
  readonly url: string
  readonly detail: string | undefined

  constructor(message: string, details: YtDlpErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.url = details.url
    this.detail = details.detail
  }
}

/**
 * The video (or page) can't be had, and trying again won't change that: private, removed,
 * members-only, age-gated, 404/410, no video on the page, an unsupported URL. Record it and
 * don't retry.
 *
 * @example
 * ```ts
 * try { await videoInfo(url) } catch (error) {
 *   if (error instanceof VideoUnavailableError) return markFailed(error.message) // answer 2xx
 *   throw error // ExtractionError: answer 5xx so the broker retries
 * }
 * ```
 */
export class VideoUnavailableError extends YtDlpError {
  override name = 'VideoUnavailableError'
  readonly permanent = true
}

/**
 * yt-dlp failed in a way that may pass: a timeout, a network error, a 5xx or 429 from the
 * site, a bot check, or output it could not make sense of.
 *
 * @example
 * ```ts
 * if (error instanceof ExtractionError) return c.text(error.message, 503) // retried later
 * ```
 */
export class ExtractionError extends YtDlpError {
  override name = 'ExtractionError'
  readonly permanent = false
}

/** The settings that answer YouTube refusing this server, named in every `BlockedByYouTubeError`. */
export const BLOCKED_ADVICE =
  'YouTube is refusing requests from this server (a bot check or a rate limit); retrying at once only prolongs it. ' +
  'What answers it: YOUTUBE_RAG__YTDLP__COOKIES_FILE (cookies of a signed-in account), ' +
  'YOUTUBE_RAG__YTDLP__PROXY (leave through another address), ' +
  'YOUTUBE_RAG__YTDLP__EXTRACTOR_ARGS (e.g. youtube:player_client=default,mweb;po_token=…), ' +
  'YOUTUBE_RAG__YTDLP__SLEEP_REQUESTS_SECONDS (fewer requests a second); then ingest the video again'

/**
 * The site refuses this server rather than the video: YouTube's "Sign in to confirm you're not a
 * bot", an HTTP 429, "the current session has been rate-limited". Not the video's fault and not
 * fixed by retrying now (each retry makes it worse): the caller backs the host off
 * (CHANNELS__RATE_LIMIT_BACKOFF_SECONDS) and records the failure with `advice`, which names
 * the settings that answer it. An `ExtractionError`: it may pass, later.
 *
 * @example
 * ```ts
 * if (error instanceof BlockedByYouTubeError) {
 *   await stores.documents.backOffHost(host, until, error.message)
 *   return fail(error.message) // says what to set: cookies, a proxy, extractor args, sleep
 * }
 * ```
 */
export class BlockedByYouTubeError extends ExtractionError {
  override name = 'BlockedByYouTubeError'
  readonly code = 'blocked'
  /** The settings that answer it, in words (also at the end of `message`). */
  readonly advice = BLOCKED_ADVICE
}

/**
 * The egress guard refused one of yt-dlp's requests (a redirect, a caption or media URL, a page
 * on a host not allowed, or one resolving to an internal address). Permanent: the same page
 * leads to the same place again.
 */
export class EgressRefusedError extends VideoUnavailableError {
  override name = 'EgressRefusedError'
}

// What the egress proxy puts in its refusals' status line (REFUSAL_PREFIX in egress/proxy.ts;
// a copy here keeps this module free of the proxy's).
const EGRESS_REFUSAL = /refused by the egress guard/i

// The site refusing this server, not the video. Checked first: YouTube words its rate limit like
// an unavailable video ("Video unavailable. This content isn't available, try again later"),
// and its bot check starts like its age gate ("Sign in to confirm your age", which stays
// permanent). YouTube writes the apostrophe curly (you’re), yt-dlp's own messages straight. The
// curly one is written \u2019: a character past ASCII would make V8 hold the whole bundled script
// as a two-byte string, which every start decodes, hashes and scans at twice the cost.
const BLOCKED = [
  /confirm you[\u2019'`]?re not a bot|not a bot\b/i,
  /HTTP Error 429\b/i,
  /too many requests/i,
  /rate[- ]?limited by YouTube/i,
  /content isn[\u2019'`]?t available,? try again later/i,
]

const TRANSIENT = [/try again later/i, /rate[- ]?limit/i, /HTTP Error 5\d\d\b/i, /timed? ?out/i]

const PERMANENT = [
  /private video/i,
  /video unavailable/i,
  /this video (?:is|has been) (?:no longer |not )?(?:available|removed|unavailable)/i,
  /has been removed/i,
  /has been terminated/i,
  /members[- ]only|channel's members|join this channel/i,
  /confirm your age|age[- ]restricted|inappropriate for some users/i,
  /HTTP Error (?:404|410)\b/i,
  /unsupported url/i,
  /no video formats found/i,
  // downloadAudio asks only for formats yt-dlp fetches through the egress proxy (http, HLS):
  // a video offered only over RTMP, RTSP, MMS or FTP stays so.
  /requested format is not available/i,
  /no media found/i,
  /is not a valid url/i,
  /not (?:made this video )?available in your country|geo[- ]?restrict/i,
  /drm protected/i,
  /copyright/i,
  /requires payment/i,
  /this channel (?:has no uploads|does not have)/i,
  /playlist does not exist|this playlist is private/i,
]

// yt-dlp 2025.11.12 on solves YouTube's JavaScript challenges with an external runtime and the
// yt-dlp-ejs scripts (docs/images.md). When it cannot (no runtime enabled, a solver script it
// was not allowed to fetch), it warns, leaves out the formats whose URLs need a solved challenge
// and may then find none: a "no formats" error that is the setup's fault, not the video's.
const CHALLENGES_UNSOLVED = [
  /(?:n challenge|signature) solving failed/i,
  /no supported javascript runtime could be found/i,
  /remote components? .+ (?:was|were) skipped/i,
]
const NO_FORMATS = /requested format is not available|no video formats found/i

/** yt-dlp's warning that it could not solve YouTube's JavaScript challenges, if it gave one. */
function unsolvedChallenges(stderr: string): string | undefined {
  return stderr
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .find((line) => line.startsWith('WARNING:') && CHALLENGES_UNSOLVED.some((pattern) => pattern.test(line)))
    ?.replace(/^WARNING:\s*/, '')
}

/**
 * The stderr line that says what went wrong: yt-dlp's last `ERROR:` line (without the prefix
 * and the "please report this issue" boilerplate), else the last line that is not a warning or
 * progress, else `undefined`.
 *
 * @example
 * ```ts
 * relevantLine('WARNING: [generic] Falling back…\nERROR: Unsupported URL: http://h/') // 'Unsupported URL: http://h/'
 * ```
 */
export function relevantLine(stderr: string): string | undefined {
  // yt-dlp's downloader writes "ERROR: \r[download] Got error: …": the \r rewinds a progress
  // line, not a new message, so the error's text is kept on its ERROR line.
  const lines = stderr
    .replace(/(ERROR:[ \t]*)\r/g, '$1')
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter(Boolean)
  const line =
    lines.findLast((candidate) => candidate.startsWith('ERROR:')) ??
    lines.findLast((candidate) => !candidate.startsWith('WARNING:') && !candidate.startsWith('['))
  if (!line) return undefined
  const cleaned = line
    .replace(/^ERROR:\s*/, '')
    .replace(/;?\s*please report this issue on\b.*$/i, '')
    .trim()
  return cleaned.length > 500 ? `${cleaned.slice(0, 500)}…` : cleaned
}

/**
 * Turns a failed yt-dlp run into a `VideoUnavailableError`, a `BlockedByYouTubeError` or an
 * `ExtractionError`, decided from what yt-dlp said on stderr: the one place that reads its
 * words, so callers branch on the class.
 *
 * @example
 * ```ts
 * classifyFailure('ERROR: [youtube] abc: Private video. Sign in…', { url, exitCode: 1 }) // VideoUnavailableError
 * ```
 */
export function classifyFailure(
  stderr: string,
  context: { url: string; exitCode?: number | null /** What yt-dlp was doing; default `read <url>`. */; task?: string },
): YtDlpError {
  const detail = relevantLine(stderr)
  const said = detail ?? `exited with code ${context.exitCode ?? 'unknown'} and no message`
  const message = `yt-dlp could not ${context.task ?? `read ${context.url}`}: ${said}`
  if (detail && EGRESS_REFUSAL.test(detail)) return new EgressRefusedError(message, { url: context.url, detail })
  if (detail && BLOCKED.some((pattern) => pattern.test(detail)))
    return new BlockedByYouTubeError(`${message}. ${BLOCKED_ADVICE}`, { url: context.url, detail })
  const unsolved = detail && NO_FORMATS.test(detail) ? unsolvedChallenges(stderr) : undefined
  if (unsolved) {
    // May pass once yt-dlp can solve them (a runtime, YOUTUBE_RAG__YTDLP__REMOTE_COMPONENTS).
    return new ExtractionError(
      `${message} (yt-dlp could not solve YouTube's JavaScript challenges: ${unsolved.length > 300 ? `${unsolved.slice(0, 300)}…` : unsolved})`,
      {
        url: context.url,
        detail,
      },
    )
  }
  if (
    detail &&
    !TRANSIENT.some((pattern) => pattern.test(detail)) &&
    PERMANENT.some((pattern) => pattern.test(detail))
  ) {
    return new VideoUnavailableError(message, { url: context.url, detail })
  }
  return new ExtractionError(message, { url: context.url, ...(detail ? { detail } : {}) })
}
