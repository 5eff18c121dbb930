import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isYouTubeUrl, youtubeVideoId } from '../youtube-url/index.ts'
import type { CaptionTrack } from './caption-track.ts'
import { ExtractionError, VideoUnavailableError } from './errors.ts'
import {
  compact,
  metadata,
  number,
  record,
  text,
  toVideoInfo,
  type DiscoveredVideo,
  type RawInfo,
  type VideoInfo,
} from './info.ts'
import { runYtDlp, runYtDlpJson, type YtDlpOptions } from './run.ts'
import { scratchDir } from '../scratch/index.ts'

export {
  chooseCaptionTrack,
  originalLanguage,
  spokenLanguage,
  type CaptionSource,
  type CaptionTrack,
} from './caption-track.ts'
export { isNotStartedError, liveSkipReason, liveStatusOf } from './live.ts'
export {
  BLOCKED_ADVICE,
  BlockedByYouTubeError,
  classifyFailure,
  EgressRefusedError,
  ExtractionError,
  VideoUnavailableError,
  YtDlpError,
  type YtDlpErrorDetails,
} from './errors.ts'
export {
  chaptersOf,
  type CaptionFormat,
  type CaptionTracks,
  type DiscoveredVideo,
  type RawInfo,
  type VideoInfo,
} from './info.ts'
export { DEFAULT_BINARY, DEFAULT_TIMEOUT_MS, ytdlpOptionsFrom, type YtDlpOptions, type YtDlpSettings } from './run.ts'
export { downloadYtDlp, youtubeDlExecInstaller, type DownloadYtDlpOptions } from './install.ts'
export {
  assessYtDlp,
  compareYtDlpVersions,
  DEFAULT_MIN_VERSION,
  knowsNewFlags,
  locateExecutable,
  NEW_FLAGS_SINCE,
  parseYtDlpVersion,
  probeYtDlp,
  runBriefly,
  ytdlpReadiness,
  type Degraded,
  type YtDlpAssessment,
  type YtDlpFloor,
  type YtDlpProbe,
} from './version.ts'

export type VideoList = {
  kind: 'video' | 'playlist'
  title?: string | undefined
  channelId?: string | undefined
  videos: DiscoveredVideo[]
}

const PLAYLIST_TYPES = new Set(['playlist', 'multi_video'])
const REFERENCE_TYPES = new Set(['url', 'url_transparent'])
// A channel URL gives a playlist of its tabs; a tab can list playlists. Deeper than that is
// not something a user means by "ingest this".
const MAX_DEPTH = 2

type Parent = { page: string; channelId: string | undefined; channel: string | undefined }

export type ListOptions = YtDlpOptions & {
  /** The first this many entries only (a channel's newest uploads). */
  limit?: number
}

const entriesOf = (info: RawInfo): RawInfo[] =>
  (Array.isArray(info.entries) ? info.entries : []).flatMap((entry) => {
    const found = record(entry)
    return found ? [found] : [] // unavailable entries are null
  })

/** An entry that points at another page: a video to read later, or a playlist to list. */
async function fromReference(
  entry: RawInfo,
  parent: Parent,
  depth: number,
  options: YtDlpOptions,
): Promise<DiscoveredVideo[]> {
  const url = text(entry.url)
  if (!url) return []
  const id = text(entry.id) ?? youtubeVideoId(url)
  const isYouTubeVideo = text(entry.ie_key) === 'Youtube' || youtubeVideoId(url) !== undefined
  const isYouTubeList = !isYouTubeVideo && isYouTubeUrl(url)
  if (isYouTubeList) {
    // Only YouTube's own lists are followed: a generic page's references may point anywhere,
    // and each of those has to pass the ingest allow-list before anything fetches it.
    return depth < MAX_DEPTH ? (await list(url, depth + 1, options)).videos : []
  }
  if (!id) return []
  return [compact({ videoId: id, url, ...metadata(entry, parent) })]
}

/** Every video of a playlist, nested playlists (a channel's tabs) flattened in order. */
async function flatten(
  playlist: RawInfo,
  parent: Parent,
  depth: number,
  options: YtDlpOptions,
): Promise<DiscoveredVideo[]> {
  const videos: DiscoveredVideo[] = []
  for (const [index, entry] of entriesOf(playlist).entries()) {
    const type = text(entry._type) ?? 'video'
    if (PLAYLIST_TYPES.has(type)) {
      const page = text(entry.webpage_url) ?? parent.page
      const inner = {
        page,
        channelId: text(entry.channel_id) ?? parent.channelId,
        channel: text(entry.channel) ?? parent.channel,
      }
      videos.push(...(await flatten(entry, inner, depth, options)))
    } else if (REFERENCE_TYPES.has(type)) {
      videos.push(...(await fromReference(entry, parent, depth, options)))
    } else {
      const id = text(entry.id)
      if (!id) continue
      // A fully extracted entry: its `url` is the media file. When it has no page of its own
      // (the generic extractor's videos on one HTML page) it is read again as item N of the page.
      const own = text(entry.webpage_url)
      const located =
        own && own !== parent.page
          ? { url: own }
          : { url: parent.page, playlistItem: number(entry.playlist_index) ?? index + 1, listed: entry }
      videos.push(compact({ videoId: id, ...located, ...metadata(entry, parent) }))
    }
  }
  return videos
}

async function list(url: string, depth: number, options: ListOptions): Promise<VideoList> {
  const info = await runYtDlpJson(
    url,
    { flatPlaylist: true, ...(options.limit ? { playlistEnd: options.limit } : {}) },
    options,
    'list',
  )
  const page = text(info.webpage_url) ?? url
  const type = text(info._type) ?? 'video'
  if (!PLAYLIST_TYPES.has(type)) {
    const videoId = text(info.id)
    if (!videoId) throw new ExtractionError(`yt-dlp gave no video id for ${url}`, { url })
    const video = compact<DiscoveredVideo>({ videoId, url: page, ...metadata(info) })
    return compact<VideoList>({ kind: 'video', title: video.title, channelId: video.channelId, videos: [video] })
  }
  const parent = { page, channelId: text(info.channel_id), channel: text(info.channel) ?? text(info.uploader) }
  const seen = new Set<string>()
  const videos = (await flatten(info, parent, depth, options)).filter(
    (video) => !seen.has(video.videoId) && seen.add(video.videoId),
  )
  return compact<VideoList>({ kind: 'playlist', title: text(info.title), channelId: parent.channelId, videos })
}

/**
 * Lists the videos behind a URL (a video, a playlist, a channel, or a page with `<video>`
 * elements) without opening each one (`yt-dlp -J --flat-playlist`). YouTube videos come with
 * their watch URL; videos of a generic page with several of them come as the page URL plus
 * `playlistItem`. A channel's tabs are flattened into one list, each video once. Give it the
 * canonical URL (`checkIngestUrl` makes it): a `watch?v=…&list=…` URL would list the playlist.
 *
 * @example
 * ```ts
 * const { kind, videos } = await listVideos('https://www.youtube.com/@channel/videos')
 * for (const video of videos) emit('video.discovered', video) // { videoId, url, playlistItem?, title?, … }
 * ```
 */
export async function listVideos(url: string, options: ListOptions): Promise<VideoList> {
  return list(url, 0, options)
}

/**
 * Reads one video's full information (`yt-dlp -J`): metadata, caption tracks, and the raw info
 * JSON that `downloadCaptions` needs. `playlistItem` picks a video of a page that holds several;
 * without it a YouTube `watch?v=…&list=…` URL gives just the video.
 *
 * @example
 * ```ts
 * const info = await videoInfo(video.url, video.playlistItem)
 * const track = chooseCaptionTrack(info, 'en')
 * ```
 */
export async function videoInfo(
  url: string,
  playlistItem: number | undefined,
  options: YtDlpOptions & { videoId?: string },
): Promise<VideoInfo> {
  const flags = playlistItem === undefined ? { noPlaylist: true } : { playlistItems: String(playlistItem) }
  const info = await runYtDlpJson(url, flags, options, 'info')
  const type = text(info._type) ?? 'video'
  let video = info
  if (PLAYLIST_TYPES.has(type)) {
    const entries = entriesOf(info)
    const only = entries.length === 1 ? entries[0] : undefined
    // A page of several videos: the one asked for by position, else by id (a feed links a
    // channel's video to the page that holds it).
    const byId = options.videoId === undefined ? undefined : entries.find((entry) => text(entry.id) === options.videoId)
    const found =
      playlistItem === undefined
        ? (byId ?? only)
        : (entries.find((entry) => number(entry.playlist_index) === playlistItem) ?? only)
    if (!found) {
      const what =
        playlistItem === undefined
          ? `holds ${entries.length} videos; pass playlistItem to pick one`
          : `has no video number ${playlistItem}`
      throw new VideoUnavailableError(`${url} ${what}`, { url })
    }
    video = found
  }
  if (!text(video.id) || REFERENCE_TYPES.has(text(video._type) ?? '')) {
    throw new ExtractionError(`yt-dlp gave no video information for ${url}`, { url })
  }
  const page = playlistItem === undefined ? (text(video.webpage_url) ?? url) : url
  return toVideoInfo(video, page, playlistItem)
}

/**
 * A video's full information from the entry its listing extracted (`DiscoveredVideo.listed`),
 * what `videoInfo(url, playlistItem)` would read from the same page again; undefined when the
 * entry is not a whole video of that id.
 *
 * @example
 * ```ts
 * const info = videoInfoFromListing(listed, video.url, video.playlistItem, video.videoId) ?? (await videoInfo(video.url, video.playlistItem, options))
 * ```
 */
export function videoInfoFromListing(
  listed: RawInfo,
  url: string,
  playlistItem: number,
  videoId: string,
): VideoInfo | undefined {
  if (
    text(listed.id) !== videoId ||
    REFERENCE_TYPES.has(text(listed._type) ?? '') ||
    PLAYLIST_TYPES.has(text(listed._type) ?? '')
  )
    return undefined
  return toVideoInfo(listed, url, playlistItem)
}

export type DownloadCaptionsOptions = YtDlpOptions & {
  /** Where the temporary folder goes. Default `os.tmpdir()`. */
  tmpDir?: string
  /** A caption file larger than this is refused (VideoUnavailableError). Default 5 MB. */
  maxBytes?: number
}

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * Writes the video's info JSON into `dir` for yt-dlp's `--load-info-json`, without its
 * webpage_url; gives the file's path. Without webpage_url, a failed download is reported as an
 * error. With it, yt-dlp "tries with URL" instead: it extracts the whole page again, and on a
 * page of several videos could write another video's captions or audio under the same file name.
 */
async function writeInfoJson(info: VideoInfo, dir: string): Promise<string> {
  const { webpage_url: _page, ...raw } = info.raw
  const infoFile = join(dir, 'info.json')
  await writeFile(infoFile, JSON.stringify(raw))
  return infoFile
}

/**
 * Downloads a caption track as WebVTT text. yt-dlp does the download from the video's info
 * JSON (so the site's headers and signed URLs are used as yt-dlp knows how), converting other
 * formats to VTT with ffmpeg; the temporary folder is removed afterwards.
 *
 * @example
 * ```ts
 * const track = chooseCaptionTrack(info)
 * if (track) {
 *   const vtt = await downloadCaptions(info, track) // 'WEBVTT\n\n00:00:00.000 --> …'
 * }
 * ```
 */
export async function downloadCaptions(
  info: VideoInfo,
  track: Pick<CaptionTrack, 'language' | 'source'>,
  options: DownloadCaptionsOptions,
): Promise<string> {
  const dir = await scratchDir('captions', options.tmpDir)
  try {
    const infoFile = await writeInfoJson(info, dir)
    await runYtDlp(
      '',
      {
        // Without it, yt-dlp skips a failed subtitle download silently and exits 1 with no message.
        abortOnError: true,
        loadInfoJson: infoFile,
        skipDownload: true,
        [track.source === 'captions' ? 'writeSubs' : 'writeAutoSubs']: true,
        subLangs: escapeRegExp(track.language), // yt-dlp reads each entry as a regular expression
        subFormat: 'vtt/srt/ttml/best',
        convertSubs: 'vtt',
        output: join(dir, 'video.%(ext)s'),
        noProgress: true,
      },
      options,
      { url: info.url, task: `download the ${track.language} ${track.source} of ${info.url}`, kind: 'captions' },
    )
    const files = (await readdir(dir)).filter((name) => name.endsWith('.vtt'))
    const file = files.find((name) => name === `video.${track.language}.vtt`) ?? files[0]
    if (!file) {
      throw new ExtractionError(
        `yt-dlp wrote no ${track.language} ${track.source} for ${info.url}; the track is not in the video's info`,
        {
          url: info.url,
        },
      )
    }
    // Read only when small enough: a hostile site can serve a caption "file" of any size.
    const maxBytes = options.maxBytes ?? 5_000_000
    const { size } = await stat(join(dir, file))
    if (size > maxBytes) {
      throw new VideoUnavailableError(
        `the ${track.language} ${track.source} of ${info.url} are ${size} bytes; at most ${maxBytes} are taken (YOUTUBE_RAG__INGEST__CAPTION_MAX_BYTES)`,
        {
          url: info.url,
        },
      )
    }
    return await readFile(join(dir, file), 'utf8')
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const AUDIO_FORMAT = ['bestaudio', 'best']
  .flatMap((kind) => [`${kind}[protocol^=http]`, `${kind}[protocol^=m3u8]`])
  .join('/')

/**
 * Downloads a video's best audio (or its whole file where the site offers no audio-only
 * format) into `dir`, from the video's info JSON as captions are; gives the file's path.
 *
 * @example
 * ```ts
 * const file = await downloadAudio(info, '/tmp/ytrag-audio-x', { timeoutMs: 600_000 })
 * ```
 */
export async function downloadAudio(info: VideoInfo, dir: string, options: YtDlpOptions): Promise<string> {
  const infoFile = await writeInfoJson(info, dir)
  await runYtDlp(
    '',
    // Only formats yt-dlp fetches itself (through the egress proxy): http(s), DASH and HLS with
    // the native downloader; never RTMP, RTSP or MMS, which a tool of its own would open.
    {
      abortOnError: true,
      loadInfoJson: infoFile,
      format: AUDIO_FORMAT,
      output: join(dir, 'audio.%(ext)s'),
      noProgress: true,
      noPart: true,
    },
    options,
    { url: info.url, task: `download the audio of ${info.url}`, kind: 'audio' },
  )
  const file = (await readdir(dir)).find((name) => name.startsWith('audio.'))
  if (!file) throw new ExtractionError(`yt-dlp wrote no audio file for ${info.url}`, { url: info.url })
  return join(dir, file)
}

/**
 * The functions above with options bound once, e.g. from the configuration.
 *
 * @example
 * ```ts
 * const ytdlp = createYtDlp(ytdlpOptionsFrom(config, context))
 * const { videos } = await ytdlp.listVideos(url)
 * ```
 */
export function createYtDlp(options: DownloadCaptionsOptions) {
  return {
    listVideos: (url: string) => listVideos(url, options),
    videoInfo: (url: string, playlistItem?: number) => videoInfo(url, playlistItem, options),
    downloadCaptions: (info: VideoInfo, track: Pick<CaptionTrack, 'language' | 'source'>) =>
      downloadCaptions(info, track, options),
    downloadAudio: (info: VideoInfo, dir: string) => downloadAudio(info, dir, options),
  }
}
