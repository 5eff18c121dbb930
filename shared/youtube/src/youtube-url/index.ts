// The one home of YouTube's URL forms: which URLs are YouTube's, which video or playlist one
// names, and the single canonical URL each is turned into before it reaches yt-dlp and the stores
// (so one video shared as youtu.be/…, /shorts/… and watch?v=…&si=… is one video, read one way).

/** A video id: 11 characters of letters, digits, `-` and `_`. */
const VIDEO_ID = /^[A-Za-z0-9_-]{11}$/
/** A playlist id: `PL…`, `UU…`, `OLAK5uy_…`, `RD…` (a mix), and the two-letter `WL` and `LL`. */
const PLAYLIST_ID = /^[A-Za-z0-9_-]{2,64}$/
/** Path forms whose next segment is the video id (`/watch/ID` is an older share form). */
const ID_PATHS = new Set(['shorts', 'embed', 'live', 'v', 'e', 'watch'])

/**
 * Query parameters that only say where a link was shared from or how it was opened: dropped
 * from the URLs kept as pages (channels, tabs), as everything but the id is from video URLs.
 */
const TRACKING =
  /^(?:si|pp|feature|app|persist_app|ab_channel|fbclid|gclid|igshid|source_ve_path|utm_[a-z]+|embeds_[a-z_]+)$/i

const hostOf = (hostname: string) => hostname.toLowerCase().replace(/\.$/, '')

function isYouTubeHost(hostname: string): boolean {
  const host = hostOf(hostname)
  return (
    host === 'youtu.be' ||
    host === 'youtube.com' ||
    host.endsWith('.youtube.com') ||
    host === 'youtube-nocookie.com' ||
    host.endsWith('.youtube-nocookie.com')
  )
}

function parse(url: string | URL): URL | undefined {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : undefined
  } catch {
    return undefined
  }
}

/**
 * The canonical URL of a video: the one yt-dlp is given and the stores keep.
 *
 * @example
 * ```ts
 * watchUrl('dQw4w9WgXcQ') // 'https://www.youtube.com/watch?v=dQw4w9WgXcQ'
 * ```
 */
export const watchUrl = (videoId: string) => `https://www.youtube.com/watch?v=${encodeURIComponent(videoId)}`

/** The canonical URL of a playlist. */
export const playlistUrl = (playlistId: string) =>
  `https://www.youtube.com/playlist?list=${encodeURIComponent(playlistId)}`

/** What a YouTube URL names. */
export type YouTubeTarget =
  /** A video; `playlistId` when the URL opened it inside a playlist (`&list=`). */
  | { kind: 'video'; videoId: string; playlistId?: string }
  | { kind: 'playlist'; playlistId: string }
  /** Anything else on YouTube (a channel, one of its tabs, a search): kept as a page. */
  | { kind: 'page' }
  /** A video or playlist form whose id is not one: the URL can only fail. */
  | { kind: 'invalid'; reason: string }

/**
 * What a URL on a YouTube host names, from its path and query alone (nothing is fetched);
 * undefined for a URL that is not YouTube's.
 *
 * @example
 * ```ts
 * youtubeTarget('https://youtu.be/dQw4w9WgXcQ?si=abc')                       // { kind: 'video', videoId: 'dQw4w9WgXcQ' }
 * youtubeTarget('https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PLx&index=3') // { kind: 'video', videoId: 'dQw4w9WgXcQ', playlistId: 'PLx' }
 * youtubeTarget('https://www.youtube.com/shorts/abc')                         // { kind: 'invalid', reason: '…' }
 * youtubeTarget('https://vimeo.com/123')                                      // undefined
 * ```
 */
export function youtubeTarget(url: string | URL): YouTubeTarget | undefined {
  const parsed = parse(url)
  if (!parsed || !isYouTubeHost(parsed.hostname)) return undefined
  const segments = parsed.pathname.split('/').filter(Boolean)
  const list = parsed.searchParams.get('list') ?? undefined
  const playlistId = list !== undefined && PLAYLIST_ID.test(list) ? list : undefined
  const video = (candidate: string | null | undefined, where: string): YouTubeTarget => {
    if (candidate && VIDEO_ID.test(candidate))
      return { kind: 'video', videoId: candidate, ...(playlistId ? { playlistId } : {}) }
    // A playlist opened without a video (`watch?list=…`, `embed/videoseries?list=…`) is the playlist.
    if (!candidate && playlistId) return { kind: 'playlist', playlistId }
    const shown = candidate ? JSON.stringify(candidate) : 'nothing'
    return { kind: 'invalid', reason: `${where} holds ${shown}, not a YouTube video id (11 letters, digits, - or _)` }
  }

  if (hostOf(parsed.hostname) === 'youtu.be') return video(segments[0], 'the youtu.be path')
  const [first, second] = segments
  if (first === 'watch' && second === undefined) return video(parsed.searchParams.get('v'), 'the v= parameter')
  if (first === 'embed' && second === 'videoseries') return video(undefined, 'the embed path')
  if (first && ID_PATHS.has(first)) return video(second, `the /${first}/ path`)
  if (first === 'playlist') {
    return playlistId
      ? { kind: 'playlist', playlistId }
      : {
          kind: 'invalid',
          reason: `the list= parameter holds ${list === undefined ? 'nothing' : JSON.stringify(list)}, not a playlist id`,
        }
  }
  return { kind: 'page' }
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
  return youtubeTarget(url) !== undefined
}

/**
 * The video id of a YouTube video URL (`watch?v=`, `youtu.be/`, `/shorts/`, `/embed/`,
 * `/live/`, `/v/`), or `undefined` for channels, playlists, malformed ids and other sites.
 *
 * @example
 * ```ts
 * youtubeVideoId('https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s') // 'dQw4w9WgXcQ'
 * youtubeVideoId('https://youtu.be/dQw4w9WgXcQ')                     // 'dQw4w9WgXcQ'
 * youtubeVideoId('https://www.youtube.com/@channel')                 // undefined
 * ```
 */
export function youtubeVideoId(url: string): string | undefined {
  const target = youtubeTarget(url)
  return target?.kind === 'video' ? target.videoId : undefined
}

export type CanonicalUrlOptions = {
  /**
   * For a video opened inside a playlist (`watch?v=…&list=…`): take the whole playlist instead
   * of the one video. Default false: a shared link names the video it plays.
   */
  playlist?: boolean
}

export type CanonicalUrl =
  | { ok: true; url: URL; videoId?: string; playlistId?: string }
  | { ok: false; message: string }

/**
 * The one URL a user's URL is read as. YouTube videos in any form (`youtu.be/ID`, `/shorts/ID`,
 * `/live/ID`, `/embed/ID`, `/v/ID`, `m.` and `music.` hosts, with `si=`, `t=`, `feature=` or any
 * other parameter) become `https://www.youtube.com/watch?v=ID`: the whole video is ingested and
 * every citation links its own moment, so a start time is not kept. A video inside a playlist
 * is the video alone unless `playlist` is asked for (then the playlist); `/playlist?list=ID`
 * becomes `https://www.youtube.com/playlist?list=ID`. Other YouTube pages (channels, tabs) keep
 * their path, over https, on `www.` for `youtube.com` and `m.youtube.com`, without share and
 * tracking parameters. A video or playlist form whose id is malformed is refused; URLs of other sites
 * are taken as they are.
 *
 * @example
 * ```ts
 * canonicalUrl(new URL('https://m.youtube.com/shorts/dQw4w9WgXcQ?si=x')) // { ok: true, url: URL('https://www.youtube.com/watch?v=dQw4w9WgXcQ'), videoId: 'dQw4w9WgXcQ' }
 * canonicalUrl(new URL('https://youtu.be/dQw4w9WgXcQ?list=PLx'), { playlist: true }) // { ok: true, url: URL('https://www.youtube.com/playlist?list=PLx'), playlistId: 'PLx' }
 * ```
 */
export function canonicalUrl(url: URL, { playlist = false }: CanonicalUrlOptions = {}): CanonicalUrl {
  const target = youtubeTarget(url)
  if (!target) return { ok: true, url }
  switch (target.kind) {
    case 'invalid':
      return { ok: false, message: `${url.href} is not a YouTube URL that can be read: ${target.reason}` }
    case 'video':
      if (playlist && target.playlistId)
        return { ok: true, url: new URL(playlistUrl(target.playlistId)), playlistId: target.playlistId }
      return { ok: true, url: new URL(watchUrl(target.videoId)), videoId: target.videoId }
    case 'playlist':
      return { ok: true, url: new URL(playlistUrl(target.playlistId)), playlistId: target.playlistId }
    case 'page': {
      const page = new URL(url.href)
      const host = hostOf(page.hostname)
      if (host === 'youtube.com' || host === 'm.youtube.com') page.hostname = 'www.youtube.com'
      page.protocol = 'https:'
      for (const name of [...page.searchParams.keys()]) if (TRACKING.test(name)) page.searchParams.delete(name)
      page.hash = ''
      return { ok: true, url: page }
    }
  }
}
