import { z } from '@hono/zod-openapi'
import { chapterRef, required } from './common.ts'
import { MAX_QUERY_CHARS, searchFilter } from './search.ts'

export const askRequest = z
  .object({
    question: z
      .string({ error: required('question') })
      .trim()
      .min(1, 'question is required')
      .max(MAX_QUERY_CHARS, `question must be at most ${MAX_QUERY_CHARS} characters`),
    limit: z.number().int().min(1).max(20).optional().describe('How many passages to answer from; 5 with a chat model, 3 without.'),
    filter: searchFilter.optional(),
  })
  .openapi('AskRequest')

/** A passage an answer cites as `[n]`. */
export const citation = z
  .strictObject({
    n: z.number().int(),
    videoId: z.string(),
    title: z.string(),
    start: z.number(),
    end: z.number(),
    url: z.string(),
    text: z.string(),
    chapter: chapterRef.optional(),
  })
  .openapi('Citation')

export const askResponse = z
  .strictObject({
    answer: z.string(),
    mode: z.enum(['generative', 'extractive']).describe('`generative`: written by the chat model; `extractive`: the best passages themselves.'),
    citations: z.array(citation),
    warning: z.string().optional().describe('Set when the chat model failed and the passages are given instead.'),
  })
  .openapi('AskResponse')

/**
 * With `Accept: text/event-stream`: `citations` (the citations as JSON), then `answer` events
 * (each a JSON string, a piece of the answer), then `done` (the whole answer as JSON); `error`
 * (`{code,message}`) when the chat model fails after the headers were sent.
 */
export const askEventStream = z.string().describe('Server-sent events: `citations`, `answer`… then `done`, or `error`.')
