const VIDEO_ID = /^[A-Za-z0-9_-]{11}$/
// Path forms whose next segment is the video id.
const ID_PATHS = new Set(['shorts', 'embed', 'live', 'v', 'e'])

function parse(url: string): URL | undefined {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : undefined
  } catch {
    return undefined
  }
}

const isYouTubeHost = (hostname: string) => {
  const host = hostname.toLowerCase().replace(/\.$/, '')
  return (
    host === 'youtu.be' ||
    host === 'youtube.com' ||
    host.endsWith('.youtube.com') ||
    host === 'youtube-nocookie.com' ||
    host.endsWith('.youtube-nocookie.com')
  )
}

/**
 * Whether a URL is on a YouTube host (youtube.com and its subdomains, youtu.be,
 * youtube-nocookie.com). Anything that does not parse as an http(s) URL is not.
 *
 * @example
 * ```ts
 * isYouTubeUrl('https://youtu.be/dQw4w9WgXcQ')       // true
 * isYouTubeUrl('http://127.0.0.1:4000/talk.html')    // false
 * ```
 */
export function isYouTubeUrl(url: string): boolean {
  const parsed = parse(url)
  return parsed !== undefined && isYouTubeHost(parsed.hostname)
}

/**
 * The video id of a YouTube video URL (`watch?v=`, `youtu.be/`, `/shorts/`, `/embed/`,
 * `/live/`), or `undefined` for channels, playlists and other sites.
 *
 * @example
 * ```ts
 * youtubeVideoId('https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s') // 'dQw4w9WgXcQ'
 * youtubeVideoId('https://youtu.be/dQw4w9WgXcQ')                     // 'dQw4w9WgXcQ'
 * youtubeVideoId('https://www.youtube.com/@channel')                 // undefined
 * ```
 */
export function youtubeVideoId(url: string): string | undefined {
  const parsed = parse(url)
  if (!parsed || !isYouTubeHost(parsed.hostname)) return undefined
  const segments = parsed.pathname.split('/').filter(Boolean)
  let candidate: string | null | undefined
  if (parsed.hostname.toLowerCase().replace(/\.$/, '') === 'youtu.be') candidate = segments[0]
  else if (segments[0] === 'watch') candidate = parsed.searchParams.get('v')
  else if (segments[0] && ID_PATHS.has(segments[0])) candidate = segments[1]
  return candidate && VIDEO_ID.test(candidate) ? candidate : undefined
}

export type DeepLinkInput = {
  videoId: string
  /** The page the video was read from: a YouTube URL, or a page on another allowed host. */
  pageUrl: string
  /** Seconds from the start of the video; floored, negatives count as 0. */
  seconds: number
}

/**
 * A link to a moment in a video: YouTube's `watch?v=ID&t=754s` for videos on YouTube, the
 * source page with a `#t=754` media fragment for videos on other hosts.
 *
 * @example
 * ```ts
 * deepLink({ videoId: 'dQw4w9WgXcQ', pageUrl: 'https://youtu.be/dQw4w9WgXcQ', seconds: 754.9 })
 * // 'https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=754s'
 * deepLink({ videoId: 'talk-1', pageUrl: 'http://127.0.0.1:4000/talk.html#top', seconds: 151 })
 * // 'http://127.0.0.1:4000/talk.html#t=151'
 * ```
 */
export function deepLink({ videoId, pageUrl, seconds }: DeepLinkInput): string {
  const at = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0
  if (isYouTubeUrl(pageUrl)) return `https://www.youtube.com/watch?v=${encodeURIComponent(videoId)}&t=${at}s`
  const hash = pageUrl.indexOf('#')
  return `${hash === -1 ? pageUrl : pageUrl.slice(0, hash)}#t=${at}`
}
