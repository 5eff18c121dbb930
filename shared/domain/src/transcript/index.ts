// What a transcript is: where its words came from, its timed pieces, and the stored
// `transcript.json` (and each speech-to-text segment's result) that one function writes and the
// next reads. Each schema is built by its first use (`z.lazy`), not at import.
import * as z from 'zod'

/** `captions` are the creator's (manual), `auto-captions` the site's speech recognition (automatic). */
export const transcriptSourceSchema = z.lazy(() => z.enum(['captions', 'auto-captions', 'speech-to-text']))
export type TranscriptSource = z.infer<typeof transcriptSourceSchema>

/**
 * A timed piece of words, in seconds from the start: a caption cue, a transcript segment, a
 * speech-to-text segment.
 */
export const timedTextSchema = z.lazy(() =>
  z.object({ start: z.number().finite().min(0), end: z.number().finite().min(0), text: z.string() }),
)
export type TimedText = z.infer<typeof timedTextSchema>

/**
 * Why a caption track was taken (the values of @ytrag/youtube's caption choice): it is in the
 * video's original language, in the language asked for, in English (the last language tried),
 * or the creator's captions in another language (nothing in those three).
 */
export const captionChoiceSchema = z.lazy(() =>
  z.enum(['original-language', 'requested-language', 'english', 'other-language']),
)
export type CaptionChoice = z.infer<typeof captionChoiceSchema>

/** Where a video's words came from and where they are stored: what a video record keeps of its transcript. */
export const transcriptInfoSchema = z.lazy(() =>
  z.strictObject({
    source: transcriptSourceSchema.describe(
      "`captions`: the creator's (manual); `auto-captions`: the site's speech recognition (automatic).",
    ),
    /** The language of the words, e.g. `en` (for speech-to-text, the one asked for or detected). */
    language: z.string(),
    track: z
      .string()
      .optional()
      .describe("The track as the site lists it, when it differs from the language (YouTube's `en-orig`)."),
    choice: captionChoiceSchema
      .optional()
      .describe(
        "Why this caption track: in the original language, the one asked for, English, or the creator's track in another language.",
      ),
    model: z.string().optional(),
    blobKey: z.string(),
    segmentCount: z.number().int(),
  }),
)
export type TranscriptInfo = z.infer<typeof transcriptInfoSchema>

/** What `transcript.json` holds: the transcript's segments with absolute times in seconds. */
export const storedTranscriptSchema = z.lazy(() =>
  z.object({
    videoId: z.string(),
    source: transcriptSourceSchema,
    language: z.string(),
    model: z.string().optional().describe('The speech-to-text model, when the words came from one.'),
    segments: z.array(timedTextSchema).describe('The words with their times, in seconds from the start.'),
  }),
)
export type StoredTranscript = z.infer<typeof storedTranscriptSchema>

/** What speech-to-text made of one segment of a video's audio (`audio/segment-<n>.json`), times already absolute. */
export const segmentTranscriptionSchema = z.lazy(() =>
  z.object({
    index: z.number().int().min(0),
    startSeconds: z.number().finite().min(0),
    language: z.string().optional(),
    model: z.string(),
    segments: z.array(timedTextSchema),
  }),
)
export type SegmentTranscription = z.infer<typeof segmentTranscriptionSchema>
