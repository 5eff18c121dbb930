// Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'
import { searchHitSchema, transcriptSourceSchema } from '@ytrag/domain'
import { required } from './common.ts'

/** The longest query or question taken, in characters. */
export const MAX_QUERY_CHARS = 2000

/** Which videos a search or an answer may draw from. */
export const searchFilter = z.lazy(() =>
  z
    .strictObject({
      videoIds: z.array(z.string().min(1)).max(500).optional(),
      channelIds: z.array(z.string().min(1)).max(500).optional(),
      publishedAfter: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
    })
    .openapi('SearchFilter'),
)

export const searchRequest = z.lazy(() =>
  z
    .object({
      query: z
        .string({ error: required('query') })
        .trim()
        .min(1, 'query is required')
        .max(MAX_QUERY_CHARS, `query must be at most ${MAX_QUERY_CHARS} characters`),
      limit: z.number().int().min(1).max(50).optional().describe('How many hits; 10 by default.'),
      filter: searchFilter.optional(),
    })
    .openapi('SearchRequest'),
)

/** A passage of a transcript that matches (the domain's hit), with where its words came from. */
const searchHit = z.lazy(() =>
  searchHitSchema
    .unwrap()
    .extend({
      transcript: z
        .strictObject({ source: transcriptSourceSchema, language: z.string(), model: z.string().optional() })
        .optional()
        .describe('Where the words came from: captions, auto-captions or speech-to-text (and its model).'),
    })
    .openapi('SearchHit'),
)

export const searchResponse = z.lazy(() =>
  z.strictObject({ hits: z.array(searchHit).describe('Best first.') }).openapi('SearchResponse'),
)
