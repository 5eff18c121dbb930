import { z } from '@hono/zod-openapi'
import { ERROR_CODES } from '@ytrag/function'

/** The body of every error answer: a code from one closed set (branch on it), and what went wrong. */
export const errorResponse = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES).describe('What went wrong, from a closed set: branch on this (and the status), never on the message.'),
      message: z.string().describe('What went wrong and what to do, for a person.'),
    }),
  })
  .openapi('Error')

/** An error answer as a response of a route: `errorAnswer('no such video')`. */
export const errorAnswer = (description: string) => ({ description, content: { 'application/json': { schema: errorResponse } } })

/** What every `/v1` operation may also answer: a missing or unknown key (when API__KEYS is set), and the rate limit. */
export const commonErrors = {
  401: errorAnswer('API__KEYS is set and no valid key was sent (unauthorized)'),
  429: errorAnswer('rate limited: see Retry-After (rate_limited)'),
} as const

/** What an operation with a JSON body may also answer: a body that is not JSON, too large, or not JSON by its media type. */
export const bodyErrors = {
  ...commonErrors,
  400: errorAnswer('a body that is not JSON or does not fit (invalid_json, invalid_request), or a value refused (the code says which)'),
  413: errorAnswer('a body over API__MAX_BODY_BYTES (body_too_large)'),
  415: errorAnswer('the body is not application/json (unsupported_media_type)'),
} as const
