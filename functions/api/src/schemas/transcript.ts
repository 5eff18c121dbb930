// Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'
import { transcriptSource } from './common.ts'

/** A video's timed transcript. */
export const transcriptResponse = z.lazy(() =>
  z
    .strictObject({
      videoId: z.string(),
      source: transcriptSource,
      language: z.string(),
      model: z.string().optional().describe('The speech-to-text model, when the words came from one.'),
      segments: z
        .array(z.strictObject({ start: z.number(), end: z.number(), text: z.string() }))
        .describe('The words with their times, in seconds from the start.'),
    })
    .openapi('Transcript'),
)
