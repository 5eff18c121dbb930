// What a video is: its metadata, its pipeline stages and their states, what its last step handed
// on, and where its words came from. Each schema is built by its first use (`z.lazy`), not at import.
import * as z from 'zod'
import { isoTimeSchema as isoTime } from '../iso-time.ts'
import { transcriptInfoSchema } from '../transcript/index.ts'

/** The order a video goes through the stages; the first failed one is the one reported. */
export const STAGES = ['download', 'transcribe', 'index'] as const
export const stageSchema = z.lazy(() => z.enum(STAGES))
export type Stage = z.infer<typeof stageSchema>

export const stageStatusSchema = z.lazy(() => z.enum(['pending', 'running', 'done', 'failed', 'skipped']))
export type StageStatus = z.infer<typeof stageStatusSchema>

/** `skipped`: nothing to index in this run, for a reason that is not a failure (a live stream); see `skipReason`. */
export const videoStatusSchema = z.lazy(() =>
  z.enum(['queued', 'downloading', 'transcribing', 'indexing', 'indexed', 'skipped', 'failed']),
)
export type VideoStatus = z.infer<typeof videoStatusSchema>

export const stageStateSchema = z.lazy(() =>
  z
    .strictObject({ status: stageStatusSchema, updatedAt: isoTime, error: z.string().optional() })
    .meta({ id: 'StageState' }),
)
export type StageState = z.infer<typeof stageStateSchema>

/** yt-dlp's `live_status` of a video. */
export const liveStatusSchema = z.lazy(() => z.enum(['is_live', 'is_upcoming', 'post_live', 'was_live', 'not_live']))
export type LiveStatus = z.infer<typeof liveStatusSchema>

/** A chapter as the video's page lists it, in seconds from the start. */
export const chapterSchema = z.lazy(() => z.strictObject({ title: z.string(), start: z.number(), end: z.number() }))
export type Chapter = z.infer<typeof chapterSchema>

/** A video's audio on the speech-to-text path: cut into segments, each transcribed on its own. */
export const audioProgressSchema = z.lazy(() =>
  z.strictObject({
    segmentCount: z.number().int(),
    /** The audio's whole length. */
    seconds: z.number(),
    /** The segments transcribed so far, by index, and the seconds of audio they hold. */
    segmentsDone: z.array(z.number().int()),
    secondsDone: z.number(),
  }),
)
export type AudioProgress = z.infer<typeof audioProgressSchema>

/**
 * One event a video's step handed on, as it was sent: its CloudEvent id is deterministic (video,
 * stage, generation), so sending it again is the same event and downstream takes it once.
 */
export const handoffEventSchema = z.lazy(() =>
  z.strictObject({
    /** The catalog name, e.g. `transcript.ready`. */
    name: z.string(),
    id: z.string(),
    data: z.record(z.string(), z.unknown()),
  }),
)
export type HandoffEvent = z.infer<typeof handoffEventSchema>

/**
 * What the video's latest step sent on, kept with the video in the same write that finished the
 * step: a redelivery that finds the step done, or the reaper finding the video stuck, sends it again.
 */
export const handoffSchema = z.lazy(() =>
  z.strictObject({
    /** The step that sent it: `discover`, or the stage that finished or failed. */
    from: z.enum(['discover', ...STAGES]),
    events: z.array(handoffEventSchema),
    at: isoTime,
  }),
)
export type Handoff = z.infer<typeof handoffSchema>

/** A video that was indexed and is no longer watchable: kept (and searchable), marked so. */
export const videoAvailabilitySchema = z.lazy(() => z.enum(['private', 'removed']))
export type VideoAvailability = z.infer<typeof videoAvailabilitySchema>

/** What is known of a video before it is stored: where to read it, and what its listing said. */
export const newVideoSchema = z.lazy(() =>
  z.strictObject({
    videoId: z.string(),
    /** The page yt-dlp reads the video from; also the base of non-YouTube deep links. */
    url: z.string(),
    /** For a page that holds several videos, which one (1-based). */
    playlistItem: z.number().int().optional(),
    title: z.string().optional(),
    channelId: z.string().optional(),
    channel: z.string().optional(),
    publishedAt: isoTime.optional(),
    durationSeconds: z.number().optional(),
    language: z
      .string()
      .optional()
      .describe('The language the video is spoken in, as the site says or its original-language captions tell.'),
  }),
)
export type NewVideo = z.infer<typeof newVideoSchema>

/** A video: its metadata, chapters, live status, each stage's status, and where its words came from. */
export const videoSchema = z.lazy(() =>
  newVideoSchema
    .unwrap()
    .extend({
      title: z.string(),
      /** Derived on read from `stages` (see `videoStatus`), never stored on its own. */
      status: videoStatusSchema,
      stages: z.strictObject({ download: stageStateSchema, transcribe: stageStateSchema, index: stageStateSchema }),
      /** Starts at 0; every reset (a forced re-ingest) adds one, so events of an earlier run are told apart. */
      generation: z.number().int(),
      /** The events the latest step sent on; absent until discovery sends the video. */
      handoff: handoffSchema.optional(),
      /** How often the reaper sent the handoff again because the video made no progress (this generation). */
      redrives: z.number().int(),
      transcript: transcriptInfoSchema
        .optional()
        .describe(
          'Where the words came from: the caption track (its kind, language, and why it was taken) or the speech-to-text model.',
        ),
      audio: audioProgressSchema.optional(),
      /** Set when a re-sync finds the video gone from its channel and its page says why. */
      availability: videoAvailabilitySchema.optional(),
      liveStatus: liveStatusSchema.optional().describe("yt-dlp's live_status when the video was last read."),
      skipReason: z
        .string()
        .optional()
        .describe(
          "Why the video was skipped (status `skipped`): it is tried again by a re-ingest or its channel's next sync.",
        ),
      chapters: z
        .array(chapterSchema)
        .optional()
        .describe('Its chapters in order, in seconds, when the page lists them.'),
      mediaUrl: z
        .string()
        .optional()
        .describe(
          "A media file of the video a browser can play (`<video src>`), on the source page's own host; never for YouTube, whose media URLs are signed and short-lived (its embed plays those).",
        ),
      chunkCount: z.number().int(),
      error: z.string().optional(),
      createdAt: isoTime,
      updatedAt: isoTime,
    })
    .meta({ id: 'Video' }),
)
export type Video = z.infer<typeof videoSchema>
