// Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'
import { ERROR_CODES } from '@ytrag/function'

/** The body of every error answer: a code from one closed set (branch on it), and what went wrong. */
const errorResponse = z.lazy(() =>
  z
    .object({
      error: z.object({
        code: z
          .enum(ERROR_CODES)
          .describe('What went wrong, from a closed set: branch on this (and the status), never on the message.'),
        message: z.string().describe('What went wrong and what to do, for a person.'),
      }),
    })
    .openapi('Error'),
)

/** An error answer as a response of a route: `errorAnswer('no such video')`. */
export const errorAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorResponse } },
})

/**
 * What every `/v1` operation may also answer: a missing or unknown key (when API__KEYS is set),
 * the rate limit, and in local mode a Host the server does not answer for.
 */
export const commonErrors = {
  401: errorAnswer('API__KEYS is set and no valid key was sent (unauthorized)'),
  421: errorAnswer('local mode: a Host this server does not answer for (unknown_host)'),
  429: errorAnswer('rate limited: see Retry-After (rate_limited)'),
} as const

/** What an operation that changes state may also answer in local mode: a page of another site asked (forbidden_origin). */
export const stateChangeErrors = {
  ...commonErrors,
  403: errorAnswer('local mode: sent by a page of another site (forbidden_origin)'),
} as const

/** What a POST without a body may also answer in local mode, where a POST must say it is JSON. */
export const postErrors = {
  ...stateChangeErrors,
  415: errorAnswer('local mode: a POST not sent as content-type: application/json (unsupported_media_type)'),
} as const

/** What an operation with a JSON body may also answer: a body that is not JSON, too large, or not JSON by its media type. */
export const bodyErrors = {
  ...postErrors,
  400: errorAnswer(
    'a body that is not JSON or does not fit (invalid_json, invalid_request), or a value refused (the code says which)',
  ),
  413: errorAnswer('a body over API__MAX_BODY_BYTES (body_too_large)'),
  415: errorAnswer('the body is not application/json (unsupported_media_type)'),
} as const
