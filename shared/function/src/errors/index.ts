import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/**
 * Every `error.code` a function's HTTP answers carry, public API and events endpoint alike: one
 * closed set, so a caller branches on the code (and the status), never on the message.
 */
export const ERROR_CODES = [
  // 400: the request or event is wrong; the message says what.
  'invalid_json',
  'invalid_request',
  'invalid_cursor',
  'invalid_url',
  'unsupported_scheme',
  'host_not_allowed',
  'private_address',
  'not_a_channel',
  'malformed_event',
  'invalid_event',
  // 401, 403, 404
  'unauthorized',
  'forbidden_origin',
  'not_found',
  'job_not_found',
  'video_not_found',
  'transcript_not_found',
  'channel_not_found',
  // 413, 415, 421, 422, 429
  'body_too_large',
  'event_too_large',
  'unsupported_media_type',
  'unknown_host',
  'unprocessable_event',
  'rate_limited',
  // 5xx: the server's side; worth a retry.
  'internal_error',
  'handler_failed',
  'broker_unavailable',
  'upstream_rate_limited',
  // 504: a page the server fetches on the request's behalf (a channel page) did not answer in time.
  'upstream_timeout',
  // In a streamed /v1/ask answer's `error` event: the headers (200) were sent already.
  'chat_failed',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** The body of every error answer: `{error:{code,message}}`. */
export const errorBody = (code: ErrorCode, message: string) => ({ error: { code, message } })

/**
 * The one error a function's HTTP handlers throw: Hono's `HTTPException` with a code from
 * `ERROR_CODES`. Its response is the error body, so Hono's own error handling answers it as is.
 *
 * @example
 * ```ts
 * throw new ApiError(404, 'video_not_found', `no video ${videoId}`)
 * ```
 */
export class ApiError extends HTTPException {
  readonly code: ErrorCode
  readonly headers: Record<string, string> | undefined

  constructor(
    status: ContentfulStatusCode,
    code: ErrorCode,
    message: string,
    options: { headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(status, { message, ...(options.cause === undefined ? {} : { cause: options.cause }) })
    this.name = 'ApiError'
    this.code = code
    this.headers = options.headers
  }

  override getResponse(): Response {
    return Response.json(errorBody(this.code, this.message), {
      status: this.status,
      ...(this.headers ? { headers: this.headers } : {}),
    })
  }
}

/**
 * The code an `HTTPException` thrown by Hono or a middleware (not an `ApiError`) is answered
 * with, by its status: the validator's malformed JSON, a media type the route does not take.
 */
const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'invalid_json',
  401: 'unauthorized',
  404: 'not_found',
  413: 'body_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
}

/** Any error as an `ApiError`: itself, an `HTTPException` by its status, anything else a 500. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof HTTPException) {
    const code = CODE_BY_STATUS[error.status] ?? (error.status >= 500 ? 'internal_error' : 'invalid_request')
    const message =
      code === 'invalid_json'
        ? 'the request body is not valid JSON'
        : code === 'unsupported_media_type'
          ? 'the request body must be application/json'
          : error.message
    return new ApiError(error.status as ContentfulStatusCode, code, message, { cause: error })
  }
  return new ApiError(500, 'internal_error', 'the server could not complete the request', { cause: error })
}
