// Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'
import { storedTranscriptSchema, timedTextSchema } from '@ytrag/domain'

/**
 * A video's timed transcript: what its `transcript.json` holds (the domain's stored transcript),
 * as a strict object, so the document says a segment has exactly its three fields.
 */
export const transcriptResponse = z.lazy(() => {
  const { segments, ...fields } = storedTranscriptSchema.unwrap().shape
  return z
    .strictObject({
      ...fields,
      segments: z.array(z.strictObject(timedTextSchema.unwrap().shape)).describe(segments.description ?? ''),
    })
    .openapi('Transcript')
})
