// Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'
import { jobStatusSchema } from '@ytrag/domain'
import { required } from './common.ts'

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

export const ingestAccepted = z.lazy(() =>
  z
    .strictObject({
      jobId: z.string(),
      status: jobStatusSchema,
      url: z.string().describe('The canonical URL the job acts on.'),
    })
    .openapi('IngestAccepted'),
)

/** A job started by a request that goes on without it (a channel's sync). */
export const jobStarted = z.lazy(() => z.strictObject({ jobId: z.string() }).openapi('JobStarted'))
