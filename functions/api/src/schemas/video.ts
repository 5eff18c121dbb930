// Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'
import { isoTime, transcriptSource } from './common.ts'

const stageState = z.lazy(() =>
  z
    .strictObject({
      status: z.enum(['pending', 'running', 'done', 'failed', 'skipped']),
      updatedAt: isoTime,
      error: z.string().optional(),
    })
    .openapi('StageState'),
)

/** A video: its metadata, chapters, live status, each stage's status, and where its words came from. */
export const videoResponse = z.lazy(() =>
  z
    .strictObject({
      videoId: z.string(),
      url: z.string(),
      playlistItem: z.number().int().optional(),
      title: z.string(),
      channelId: z.string().optional(),
      channel: z.string().optional(),
      publishedAt: isoTime.optional(),
      durationSeconds: z.number().optional(),
      language: z
        .string()
        .optional()
        .describe('The language the video is spoken in, as the site says or its original-language captions tell.'),
      status: z.enum(['queued', 'downloading', 'transcribing', 'indexing', 'indexed', 'skipped', 'failed']),
      stages: z.strictObject({ download: stageState, transcribe: stageState, index: stageState }),
      generation: z.number().int(),
      handoff: z
        .strictObject({
          from: z.enum(['discover', 'download', 'transcribe', 'index']),
          events: z.array(
            z.strictObject({ name: z.string(), id: z.string(), data: z.record(z.string(), z.unknown()) }),
          ),
          at: isoTime,
        })
        .optional(),
      redrives: z.number().int(),
      transcript: z
        .strictObject({
          source: transcriptSource.describe(
            "`captions`: the creator's (manual); `auto-captions`: the site's speech recognition (automatic).",
          ),
          language: z.string(),
          track: z
            .string()
            .optional()
            .describe("The track as the site lists it, when it differs from the language (YouTube's `en-orig`)."),
          choice: z
            .enum(['original-language', 'requested-language', 'english', 'other-language'])
            .optional()
            .describe(
              "Why this caption track: in the original language, the one asked for, English, or the creator's track in another language.",
            ),
          model: z.string().optional(),
          blobKey: z.string(),
          segmentCount: z.number().int(),
        })
        .optional()
        .describe(
          'Where the words came from: the caption track (its kind, language, and why it was taken) or the speech-to-text model.',
        ),
      audio: z
        .strictObject({
          segmentCount: z.number().int(),
          seconds: z.number(),
          segmentsDone: z.array(z.number().int()),
          secondsDone: z.number(),
        })
        .optional(),
      availability: z.enum(['private', 'removed']).optional(),
      liveStatus: z
        .enum(['is_live', 'is_upcoming', 'post_live', 'was_live', 'not_live'])
        .optional()
        .describe("yt-dlp's live_status when the video was last read."),
      skipReason: z
        .string()
        .optional()
        .describe(
          "Why the video was skipped (status `skipped`): it is tried again by a re-ingest or its channel's next sync.",
        ),
      chapters: z
        .array(z.strictObject({ title: z.string(), start: z.number(), end: z.number() }))
        .optional()
        .describe('Its chapters in order, in seconds, when the page lists them.'),
      chunkCount: z.number().int(),
      error: z.string().optional(),
      createdAt: isoTime,
      updatedAt: isoTime,
    })
    .openapi('Video'),
)

export const listVideosQuery = z.object({
  channelId: z.string().min(1).optional().describe("Only this channel's videos."),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).optional().describe('The `nextCursor` of the previous page, unchanged.'),
})

export const videoPage = z.lazy(() =>
  z
    .strictObject({
      items: z.array(videoResponse),
      nextCursor: z.string().nullable().describe('Pass it back as `cursor` for the next page; null on the last.'),
    })
    .openapi('VideoPage'),
)

export const videoIdParam = z.object({ videoId: z.string().min(1) })

export const videoDeleted = z.lazy(() =>
  z
    .strictObject({
      videoId: z.string(),
      deleted: z.literal(true),
      chunks: z.number().int().describe('Search chunks removed.'),
      blobs: z.number().int().describe('Stored files removed (transcript, audio pieces).'),
    })
    .openapi('VideoDeleted'),
)
