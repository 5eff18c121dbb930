// One place that decides where a video's blobs live, so deleting a video can remove them all
// by prefix.

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
  /** What speech-to-text made of one segment, times already absolute (a SegmentTranscription). */
  segmentTranscription: (videoId: string, index: number) => `videos/${safe(videoId)}/audio/segment-${index}.json`,
}

/** What `audio/segment-<n>.json` holds. */
export interface SegmentTranscription {
  index: number
  startSeconds: number
  language?: string
  model: string
  segments: { start: number; end: number; text: string }[]
}

/** What `transcript.json` holds: the transcript's segments with absolute times in seconds. */
export interface StoredTranscript {
  videoId: string
  source: 'captions' | 'auto-captions' | 'speech-to-text'
  language: string
  model?: string
  segments: { start: number; end: number; text: string }[]
}
