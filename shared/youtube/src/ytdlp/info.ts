import type { Chapter, LiveStatus, NewVideo } from '@ytrag/domain'
import { isYouTubeUrl } from '../youtube-url/index.ts'
import { liveStatusOf } from './live.ts'

/** yt-dlp's info JSON, as it printed it. */
export type RawInfo = Record<string, unknown>

/**
 * A video found on a page, playlist or channel, with what yt-dlp knew without opening it: `url` is
 * the page to read it from (pass it, with `playlistItem`, to `videoInfo`); `publishedAt` is from
 * yt-dlp's `timestamp`, or else its `upload_date` (then at midnight UTC).
 */
export type DiscoveredVideo = Omit<NewVideo, 'language'> & {
  /**
   * The video's info JSON as the listing extracted it, when the page holds the video itself
   * (with `playlistItem`): `videoInfoFromListing` reads it instead of the page again.
   */
  listed?: RawInfo | undefined
}

export type CaptionFormat = { ext: string; url: string; name?: string }

/** Caption tracks by language tag, each track in the formats the site offers it in. */
export type CaptionTracks = Record<string, CaptionFormat[]>

export type VideoInfo = DiscoveredVideo & {
  /** The video's spoken language, when the site says. */
  language?: string | undefined
  /** Whether it is (or was) a live stream; absent when the site says nothing. */
  liveStatus?: LiveStatus | undefined
  /** Its chapters in order, when the page lists them. */
  chapters?: Chapter[] | undefined
  /** Captions written by the creator. */
  subtitles: CaptionTracks
  /** Speech-recognised captions (and, on YouTube, their machine translations). */
  automaticCaptions: CaptionTracks
  /** A media file of it a browser can play, on the page's own host (see `playableMediaUrl`); never on YouTube. */
  mediaUrl?: string | undefined
  /** The info JSON yt-dlp printed for this video; `downloadCaptions` hands it back to yt-dlp. */
  raw: RawInfo
}

export const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)
export const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)
export const record = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as RawInfo) : undefined

function publishedAt(info: RawInfo): string | undefined {
  const timestamp = number(info.timestamp) ?? number(info.release_timestamp)
  if (timestamp !== undefined) return new Date(timestamp * 1000).toISOString()
  const day = /^(\d{4})(\d{2})(\d{2})$/.exec(text(info.upload_date) ?? text(info.release_date) ?? '')
  return day ? `${day[1]}-${day[2]}-${day[3]}T00:00:00.000Z` : undefined
}

/** Drops the keys whose value is undefined, so results compare cleanly and stay small. */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T
}

/** The metadata fields of a video entry; `inherited` fills what a flat entry leaves out. */
export function metadata(
  info: RawInfo,
  inherited: { channelId?: string | undefined; channel?: string | undefined } = {},
) {
  return {
    title: text(info.title),
    channelId: text(info.channel_id) ?? inherited.channelId,
    channel: text(info.channel) ?? text(info.uploader) ?? inherited.channel,
    durationSeconds: number(info.duration),
    publishedAt: publishedAt(info),
  }
}

function captionTracks(value: unknown): CaptionTracks {
  const tracks: CaptionTracks = {}
  for (const [language, formats] of Object.entries(record(value) ?? {})) {
    if (!Array.isArray(formats)) continue
    const usable = formats.flatMap((format): CaptionFormat[] => {
      const entry = record(format)
      const ext = text(entry?.ext)
      const url = text(entry?.url)
      const name = text(entry?.name)
      return ext && url ? [name ? { ext, url, name } : { ext, url }] : []
    })
    if (usable.length > 0) tracks[language] = usable
  }
  return tracks
}

/** More than this many chapters, or longer titles, are not a page's chapters but an attempt to bloat every chunk. */
const MAX_CHAPTERS = 500
const MAX_CHAPTER_TITLE = 200

/**
 * The chapters of yt-dlp's `chapters: [{ start_time, end_time, title }]`, in order of their
 * start: an entry without a usable start is dropped, a missing or backwards end becomes the
 * next chapter's start (the last one's, the video's end), a title is trimmed and shortened.
 *
 * @example
 * ```ts
 * chaptersOf({ duration: 90, chapters: [{ start_time: 0, end_time: 30, title: 'Intro' }, { start_time: 30, title: 'Setup' }] })
 * // [{ title: 'Intro', start: 0, end: 30 }, { title: 'Setup', start: 30, end: 90 }]
 * ```
 */
export function chaptersOf(info: RawInfo): Chapter[] | undefined {
  if (!Array.isArray(info.chapters)) return undefined
  const listed = info.chapters
    .flatMap((entry, index) => {
      const chapter = record(entry)
      const start = number(chapter?.start_time)
      if (!chapter || start === undefined || start < 0) return []
      const title = (text(chapter.title)?.replace(/\s+/g, ' ').trim() || `Chapter ${index + 1}`).slice(
        0,
        MAX_CHAPTER_TITLE,
      )
      return [{ title, start, end: number(chapter.end_time) }]
    })
    .sort((a, b) => a.start - b.start)
    .slice(0, MAX_CHAPTERS)
  const duration = number(info.duration)
  const chapters = listed.map(({ title, start, end }, index): Chapter => {
    const next = listed[index + 1]?.start ?? duration
    const until = end !== undefined && end > start ? end : next !== undefined && next > start ? next : start
    return { title, start, end: until }
  })
  return chapters.length > 0 ? chapters : undefined
}

/** Containers a browser's `<video>` plays (in the codecs sites use in them: H.264/AAC, VP8/9, AV1, Opus, Vorbis). */
const BROWSER_CONTAINERS = new Set(['mp4', 'm4v', 'webm', 'ogv'])

/** Where a URL is (`host:port`), or undefined when it is not http(s). */
function httpHost(url: string): string | undefined {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.host : undefined
  } catch {
    return undefined
  }
}

/**
 * The URL of a media file of the video that a browser's `<video>` can play, from yt-dlp's info
 * JSON: among its formats (or the info itself, for a direct file) one fetched over plain
 * http(s) (no HLS, DASH or other segmented protocol), in a container browsers play, with audio
 * and video (a known `none` codec rules a format out; an unknown one, as the generic extractor
 * reports a page's `<video src>`, is taken after the known ones), and on the page's own host, the
 * host the ingest allow-list let through. Of several, the last: yt-dlp lists formats worst
 * first. Never for YouTube (its media URLs are signed for a few hours, and tied to the client
 * that asked: its embed plays the video), nor for a format marked as DRM-protected.
 *
 * @example
 * ```ts
 * playableMediaUrl({ formats: [{ url: 'http://127.0.0.1:4000/media/talk.mp4', ext: 'mp4', protocol: 'http' }] }, 'http://127.0.0.1:4000/talk.html')
 * // 'http://127.0.0.1:4000/media/talk.mp4'
 * ```
 */
export function playableMediaUrl(info: RawInfo, page: string): string | undefined {
  const host = httpHost(page)
  if (!host || isYouTubeUrl(page) || /^youtube/i.test(text(info.extractor_key) ?? '')) return undefined
  let known: string | undefined
  let unknown: string | undefined
  for (const entry of Array.isArray(info.formats) ? info.formats : [info]) {
    const format = record(entry)
    const url = text(format?.url)
    if (!format || !url || httpHost(url) !== host || isYouTubeUrl(url)) continue
    if (format.has_drm === true || !BROWSER_CONTAINERS.has(text(format.ext) ?? '')) continue
    const protocol = text(format.protocol)
    if (protocol !== undefined && protocol !== 'http' && protocol !== 'https') continue
    const [video, audio] = [text(format.vcodec), text(format.acodec)]
    if (video === 'none' || audio === 'none') continue
    if (video !== undefined && audio !== undefined) known = url
    else unknown = url
  }
  return known ?? unknown
}

/** The `VideoInfo` of one video's info JSON, read from `url` (and `playlistItem`). */
export function toVideoInfo(info: RawInfo, url: string, playlistItem?: number): VideoInfo {
  return compact({
    videoId: text(info.id) ?? '',
    url,
    playlistItem,
    ...metadata(info),
    language: text(info.language),
    liveStatus: liveStatusOf(info),
    chapters: chaptersOf(info),
    subtitles: captionTracks(info.subtitles),
    automaticCaptions: captionTracks(info.automatic_captions),
    mediaUrl: playableMediaUrl(info, url),
    raw: info,
  })
}
