// One place that decides where a video's blobs live, so deleting a video can remove them all
// by prefix.
import * as z from 'zod'

const safe = (videoId: string) => encodeURIComponent(videoId)

/**
 * The blob keys of one video.
 *
 * @example
 * ```ts
 * blobKeys.transcript('dQw4w9WgXcQ') // 'videos/dQw4w9WgXcQ/transcript.json'
 * ```
 */
export const blobKeys = {
  videoPrefix: (videoId: string) => `videos/${safe(videoId)}/`,
  captions: (videoId: string, language: string) => `videos/${safe(videoId)}/captions.${safe(language)}.vtt`,
  transcript: (videoId: string) => `videos/${safe(videoId)}/transcript.json`,
  /** One segment of the audio, as sent to speech-to-text. */
  audioSegment: (videoId: string, index: number) => `videos/${safe(videoId)}/audio/segment-${index}.ogg`,
  /** The video's info JSON as discover's listing extracted it from a page of several videos (a ListedInfo). */
  listedInfo: (videoId: string) => `videos/${safe(videoId)}/listed-info.json`,
  /** What speech-to-text made of one segment, times already absolute (a SegmentTranscription). */
  segmentTranscription: (videoId: string, index: number) => `videos/${safe(videoId)}/audio/segment-${index}.json`,
}

/**
 * What `listed-info.json` holds: the info JSON of one video of a page, as the listing read it,
 * with the page, the video's place on it and when it was read (download uses it only while
 * fresh: a site's media and caption URLs may expire). yt-dlp's shape, so its schema is here with
 * its key rather than in @ytrag/domain; built by its first parse (`z.lazy`).
 */
export const listedInfoSchema = z.lazy(() =>
  z.object({
    page: z.string(),
    playlistItem: z.number().int().positive(),
    listedAt: z.iso.datetime(),
    info: z.record(z.string(), z.unknown()),
  }),
)
export type ListedInfo = z.infer<typeof listedInfoSchema>
