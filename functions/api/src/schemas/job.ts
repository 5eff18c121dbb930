// Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'
import { isoTime, required } from './common.ts'

export const ingestRequest = z.lazy(() =>
  z
    .object({
      url: z.string({ error: required('url') }).min(1, 'url is required'),
      language: z
        .string()
        .min(2)
        .max(20)
        .optional()
        .describe("The caption language wanted (e.g. `en`); by default the video's own."),
      force: z.boolean().optional().describe('Index again even when the video is indexed already.'),
      speechToText: z
        .boolean()
        .optional()
        .describe('Transcribe the audio even where captions exist (needs a speech-to-text provider).'),
      playlist: z
        .boolean()
        .optional()
        .describe(
          'For a YouTube video opened inside a playlist (`watch?v=…&list=…`): ingest the whole playlist. Without it such a URL ingests the one video, as the link plays it.',
        ),
    })
    .openapi('IngestRequest'),
)

/** A job's status when it is accepted. */
const jobStatus = z.lazy(() => z.enum(['queued', 'running', 'succeeded', 'failed', 'partial']))

export const ingestAccepted = z.lazy(() =>
  z
    .strictObject({
      jobId: z.string(),
      status: jobStatus,
      url: z.string().describe('The canonical URL the job acts on.'),
    })
    .openapi('IngestAccepted'),
)

/** A job and its progress: an ingest, or a channel's sync. */
export const jobResponse = z.lazy(() =>
  z
    .strictObject({
      jobId: z.string(),
      url: z.string().describe("The URL acted on: a YouTube video's canonical watch URL, whatever form was sent."),
      language: z.string().optional(),
      force: z.boolean(),
      status: jobStatus,
      discovered: z.boolean(),
      videos: z.strictObject({
        total: z.number().int(),
        indexed: z.number().int(),
        failed: z.number().int(),
        skipped: z.number().int(),
      }),
      audioMinutes: z
        .strictObject({ queued: z.number(), done: z.number() })
        .describe('Minutes of audio to transcribe, and transcribed (speech-to-text only).'),
      errors: z.array(
        z.strictObject({ videoId: z.string().optional(), stage: z.string().optional(), message: z.string() }),
      ),
      skipped: z
        .array(z.strictObject({ videoId: z.string(), reason: z.string() }))
        .describe('Videos skipped, not failed (a live stream not over yet), with the reason.'),
      createdAt: isoTime,
      updatedAt: isoTime,
    })
    .openapi('Job'),
)

/** A job started by a request that goes on without it (a channel's sync). */
export const jobStarted = z.lazy(() => z.strictObject({ jobId: z.string() }).openapi('JobStarted'))
