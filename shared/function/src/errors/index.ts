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
