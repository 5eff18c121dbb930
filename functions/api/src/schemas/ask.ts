// Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'
import { answerSchema } from '@ytrag/domain'
import { required } from './common.ts'
import { MAX_QUERY_CHARS, searchFilter } from './search.ts'

export const askRequest = z.lazy(() =>
  z
    .object({
      question: z
        .string({ error: required('question') })
        .trim()
        .min(1, 'question is required')
        .max(MAX_QUERY_CHARS, `question must be at most ${MAX_QUERY_CHARS} characters`),
      limit: z
        .number()
        .int()
        .min(1)
        .max(20)
        .optional()
        .describe('How many passages to answer from; 5 with a chat model, 3 without.'),
      filter: searchFilter.optional(),
    })
    .openapi('AskRequest'),
)

/** An answer (the domain's), and why it is not the chat model's when that failed. */
export const askResponse = z.lazy(() =>
  answerSchema
    .unwrap()
    .extend({
      warning: z.string().optional().describe('Set when the chat model failed and the passages are given instead.'),
    })
    .openapi('AskResponse'),
)

/**
 * With `Accept: text/event-stream`: `citations` (the citations as JSON), then `answer` events
 * (each a JSON string, a piece of the answer), then `done` (the whole answer as JSON); `error`
 * (`{code,message}`) when the chat model fails after the headers were sent. A JSON Schema, not
 * zod: the stream is not a body a client parses as one value, so the typed client leaves it out.
 */
export const askEventStream = {
  type: 'string',
  description: 'Server-sent events: `citations`, `answer`… then `done`, or `error`.',
} as const
