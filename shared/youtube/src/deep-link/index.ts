import { isYouTubeUrl, watchUrl } from '../youtube-url/index.ts'

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
  if (isYouTubeUrl(pageUrl)) return `${watchUrl(videoId)}&t=${at}s`
  const hash = pageUrl.indexOf('#')
  return `${hash === -1 ? pageUrl : pageUrl.slice(0, hash)}#t=${at}`
}
