import { describe, expect, it } from 'vitest'
import {
  BlockedByYouTubeError,
  classifyFailure,
  EgressRefusedError,
  ExtractionError,
  relevantLine,
  VideoUnavailableError,
  YtDlpError,
} from './errors.ts'

const URL = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ'
const REPORT =
  '; please report this issue on  https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template. Confirm you are on the latest version using  yt-dlp -U'
const classify = (stderr: string) => classifyFailure(stderr, { url: URL, exitCode: 1 })

describe('classifyFailure', () => {
  it.each([
    "ERROR: [youtube] dQw4w9WgXcQ: Private video. Sign in if you've been granted access to this video",
    'ERROR: [youtube] dQw4w9WgXcQ: Video unavailable',
    'ERROR: [youtube] dQw4w9WgXcQ: Video unavailable. This video is no longer available because the YouTube account associated with this video has been terminated.',
    'ERROR: [youtube] dQw4w9WgXcQ: This video has been removed by the uploader',
    "ERROR: [youtube] dQw4w9WgXcQ: This video has been removed for violating YouTube's Terms of Service",
    'ERROR: [youtube] dQw4w9WgXcQ: Join this channel to get access to members-only content like this video, and other exclusive perks.',
    "ERROR: [youtube] dQw4w9WgXcQ: This video is available to this channel's members on level: Fan",
    'ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm your age. This video may be inappropriate for some users.',
    'ERROR: [youtube] dQw4w9WgXcQ: The uploader has not made this video available in your country',
    'ERROR: [youtube] dQw4w9WgXcQ: This video contains content from SME, who has blocked it on copyright grounds',
    'ERROR: [youtube] dQw4w9WgXcQ: This video is DRM protected',
    'ERROR: [youtube] dQw4w9WgXcQ: This video requires payment to watch.',
    `ERROR: [generic] None: Unable to download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404: 'Not Found'>)${REPORT}`,
    'ERROR: [generic] talk: Unable to download webpage: HTTP Error 410: Gone',
    'ERROR: Unsupported URL: http://127.0.0.1:4000/empty.html',
    'ERROR: [youtube] dQw4w9WgXcQ: No video formats found!',
    'ERROR: [vimeo] 123: No media found',
    'ERROR: \'nonsense\' is not a valid URL. Set --default-search "ytsearch" (or run  yt-dlp "ytsearch:nonsense" ) to search YouTube',
    'ERROR: [youtube:tab] @someone: This channel does not have a videos tab',
    'ERROR: [youtube:tab] UCabc: This channel has no uploads',
    'ERROR: [youtube:tab] PLabc: The playlist does not exist.',
  ])('%s is permanent', (line) => {
    const error = classify(`WARNING: something first\n${line}\n`)
    expect(error).toBeInstanceOf(VideoUnavailableError)
    expect(error).toBeInstanceOf(YtDlpError)
    expect(error.permanent).toBe(true)
    expect(error.message).toContain(`yt-dlp could not read ${URL}: `)
    expect(error.message).not.toMatch(/ERROR:|please report/)
    expect(error.detail).toBe(line.replace(/^ERROR: /, '').replace(REPORT, ''))
    expect(error.url).toBe(URL)
  })

  it.each([
    'ERROR: [youtube] dQw4w9WgXcQ: Unable to download webpage: HTTP Error 503: Service Unavailable',
    'ERROR: [youtube] dQw4w9WgXcQ: Unable to download webpage: HTTP Error 500: Internal Server Error',
    'ERROR: [youtube] dQw4w9WgXcQ: Unable to download webpage: The read operation timed out',
    'ERROR: [generic] None: Unable to download webpage: <urlopen error [Errno 111] Connection refused>',
    'ERROR: [generic] None: Unable to download webpage: <urlopen error [Errno -3] Temporary failure in name resolution>',
    "ERROR: [generic] None: Unable to download webpage: HTTP Error 403: Forbidden (caused by <HTTPError 403: 'Forbidden'>)",
    'ERROR: [youtube] dQw4w9WgXcQ: Incomplete data received',
    'ERROR: [youtube] dQw4w9WgXcQ: This live event will begin in a few moments.',
  ])('%s may pass', (line) => {
    const error = classify(line)
    expect(error).toBeInstanceOf(ExtractionError)
    expect(error.permanent).toBe(false)
    expect(error.detail).toBe(line.replace(/^ERROR: /, ''))
  })

  it.each([
    "ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you're not a bot. This helps protect our community.",
    'ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication.',
    "ERROR: [youtube] dQw4w9WgXcQ: Video unavailable. This content isn't available, try again later.",
    'ERROR: [youtube] dQw4w9WgXcQ: Video unavailable. This content isn’t available, try again later.',
    'ERROR: [youtube] dQw4w9WgXcQ: The current session has been rate-limited by YouTube for up to an hour.',
    'ERROR: [youtube] dQw4w9WgXcQ: Unable to download API page: HTTP Error 429: Too Many Requests',
    "ERROR: [youtube:tab] @some: Unable to download webpage: HTTP Error 429: Too Many Requests (caused by <HTTPError 429: 'Too Many Requests'>)",
  ])('%s is YouTube refusing this server: a BlockedByYouTubeError naming the settings that answer it', (line) => {
    const error = classify(`WARNING: [youtube] something first\n${line}\n`)
    expect(error).toBeInstanceOf(BlockedByYouTubeError)
    // Still an ExtractionError: it may pass, later; never a VideoUnavailableError.
    expect(error).toBeInstanceOf(ExtractionError)
    expect(error.permanent).toBe(false)
    expect((error as BlockedByYouTubeError).code).toBe('blocked')
    expect(error.detail).toBe(line.replace(/^ERROR: /, ''))
    for (const setting of [
      'YOUTUBE_RAG__YTDLP__COOKIES_FILE',
      'YOUTUBE_RAG__YTDLP__PROXY',
      'YOUTUBE_RAG__YTDLP__EXTRACTOR_ARGS',
      'YOUTUBE_RAG__YTDLP__SLEEP_REQUESTS_SECONDS',
    ]) {
      expect(error.message).toContain(setting)
      expect((error as BlockedByYouTubeError).advice).toContain(setting)
    }
    expect(error.message.startsWith(`yt-dlp could not read ${URL}: ${error.detail}. `)).toBe(true)
  })

  it('keeps the age gate apart from the bot check: "Sign in to confirm your age" is permanent', () => {
    const error = classify(
      'ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm your age. This video may be inappropriate for some users.',
    )
    expect(error).toBeInstanceOf(VideoUnavailableError)
    expect(error).not.toBeInstanceOf(BlockedByYouTubeError)
  })

  it('counts a run with nothing on stderr as one that may pass, saying how it exited', () => {
    const error = classifyFailure('', { url: URL, exitCode: 2 })
    expect(error).toBeInstanceOf(ExtractionError)
    expect(error.message).toBe(`yt-dlp could not read ${URL}: exited with code 2 and no message`)
    expect(error.detail).toBeUndefined()
  })

  it('names the task when given one', () => {
    const error = classifyFailure('ERROR: boom', { url: URL, task: 'download the en captions of x' })
    expect(error.message).toBe('yt-dlp could not download the en captions of x: boom')
  })
})

describe('relevantLine', () => {
  it("takes yt-dlp's last ERROR line without the boilerplate", () => {
    expect(
      relevantLine(
        `WARNING: [generic] Falling back on generic information extractor\nERROR: first\r\nERROR: Unsupported URL: http://h/${REPORT}\n`,
      ),
    ).toBe('Unsupported URL: http://h/')
  })

  it('otherwise takes the last line that is not a warning or progress', () => {
    expect(
      relevantLine('[generic] Extracting URL\nTraceback (most recent call last):\nKeyError: id\nWARNING: late\n'),
    ).toBe('KeyError: id')
    expect(relevantLine('WARNING: only a warning\n\n')).toBeUndefined()
  })

  it('keeps the line short', () => {
    expect(relevantLine(`ERROR: ${'x'.repeat(2000)}`)).toHaveLength(501)
  })
})

describe('refusals of the egress guard', () => {
  it('are permanent EgressRefusedErrors, from a 403 status line, a tunnel, or the FTP switch behind a progress \\r', () => {
    const refusals = [
      'ERROR: [generic] None: Unable to download webpage: HTTP Error 403: refused by the egress guard: host 127.0.0.1:9 is not in YOUTUBE_RAG__INGEST__ALLOWED_HOSTS',
      'ERROR: [generic] None: Unable to download webpage: <urlopen error Tunnel connection failed: 403 refused by the egress guard: host evil.example:443 is not in X>',
      'ERROR: \r[download] Got error: <urlopen error refused by the egress guard: ftp:// is not fetched (ftp://127.0.0.1:9/s.vtt)>. Giving up after 10 retries',
      "ERROR: Unable to download video subtitles for 'en': ERROR: \r[download] Got error: <urlopen error refused by the egress guard: ftp:// is not fetched (ftp://127.0.0.1:9/s.vtt)>. Giving up after 10 retries",
    ]
    for (const stderr of refusals) {
      const error = classify(stderr)
      expect(error).toBeInstanceOf(EgressRefusedError)
      expect(error).toBeInstanceOf(VideoUnavailableError)
      expect(error.detail).toMatch(/refused by the egress guard/)
    }
  })
})

describe("YouTube's JavaScript challenges left unsolved", () => {
  // What yt-dlp 2026.11.23 (trixie-backports) prints when it has Node but may not fetch the
  // solver's lib script, then finds no format left (docs/images.md).
  const SKIPPED =
    'WARNING: [youtube] [jsc] Remote component challenge solver script (node) was skipped. It may be required to solve JS challenges. You can enable the download with  --remote-components ejs:github  (recommended). For more information and alternatives, refer to  https://github.com/yt-dlp/yt-dlp/wiki/EJS'
  const UNSOLVED =
    'WARNING: [youtube] dQw4w9WgXcQ: n challenge solving failed: Some formats may be missing. Ensure you have a supported JavaScript runtime and challenge solver script distribution installed. Review any warnings presented before this message. For more details, refer to  https://github.com/yt-dlp/yt-dlp/wiki/EJS'
  const NO_RUNTIME =
    'WARNING: [youtube] No supported JavaScript runtime could be found. Only deno is enabled by default; to use another runtime add  --js-runtimes RUNTIME[:PATH]  to your command/config. YouTube extraction without a JS runtime has been deprecated, and some formats may be missing. See  https://github.com/yt-dlp/yt-dlp/wiki/EJS  for details on installing one'
  const NOT_AVAILABLE =
    'ERROR: [youtube] dQw4w9WgXcQ: Requested format is not available. Use --list-formats for a list of available formats'

  it('make a missing format an ExtractionError, which may pass, saying why', () => {
    for (const [warnings, said] of [
      [
        `${SKIPPED}\n${UNSOLVED}`,
        /could not solve YouTube's JavaScript challenges: \[youtube\] \[jsc\] Remote component challenge solver script \(node\) was skipped/,
      ],
      [
        UNSOLVED,
        /could not solve YouTube's JavaScript challenges: \[youtube\] dQw4w9WgXcQ: n challenge solving failed/,
      ],
      [
        NO_RUNTIME,
        /could not solve YouTube's JavaScript challenges: \[youtube\] No supported JavaScript runtime could be found/,
      ],
    ] as const) {
      const error = classify(`${warnings}\n${NOT_AVAILABLE}\n`)
      expect(error).toBeInstanceOf(ExtractionError)
      expect(error.permanent).toBe(false)
      expect(error.detail).toBe(NOT_AVAILABLE.replace(/^ERROR: /, ''))
      expect(error.message).toMatch(said)
      expect(error.message.length).toBeLessThan(700)
    }
  })

  it('leave a missing format without those warnings permanent, and other errors as they were', () => {
    expect(classify(NOT_AVAILABLE)).toBeInstanceOf(VideoUnavailableError)
    expect(
      classify(
        `${UNSOLVED}\nERROR: [youtube] dQw4w9WgXcQ: Private video. Sign in if you've been granted access to this video`,
      ),
    ).toBeInstanceOf(VideoUnavailableError)
  })
})
