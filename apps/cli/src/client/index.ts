// The API from a program: Hono's typed client over the api function's routes (their request and
// response types come from the routes' schemas), and one error class per kind of failure, so a
// caller branches on the class (or `code`), never on the message.
import type { AppType } from '@ytrag/api'
import type { ErrorCode } from '@ytrag/function'
import { hc, type ClientResponse } from 'hono/client'
import type { SuccessStatusCode } from 'hono/utils/http-status'

/** No server answered at all: it is not running, or not at that address. */
export class ApiConnectionError extends Error {
  constructor(
    readonly baseUrl: string,
    options?: { cause?: unknown },
  ) {
    super(`no youtube-rag server answers at ${baseUrl}; start one with \`npm start\``, options)
    this.name = 'ApiConnectionError'
  }
}

/** The server answered with an error: its status, and the `{error:{code,message}}` it sent. */
export class ApiStatusError extends Error {
  constructor(
    readonly status: number,
    /** From the server's closed set; absent only when the answer was not one of its error bodies (a proxy's page). */
    readonly code: ErrorCode | undefined,
    message: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}
/** 400: the request is wrong; `code` says how (invalid_request, invalid_url, host_not_allowed…). */
export class BadRequestError extends ApiStatusError {}
/** 401: the server has API keys and none valid was sent (YTRAG_API_KEY). */
export class AuthenticationError extends ApiStatusError {}
/** 404: no such job, video, channel or route. */
export class NotFoundError extends ApiStatusError {}
/** 429: still rate limited after the retries the client makes. */
export class RateLimitError extends ApiStatusError {}
/** 5xx: the server's side (the broker, a page upstream); worth trying again. */
export class InternalServerError extends ApiStatusError {}

/** The error an answer that is not 2xx is thrown as, by its status. */
export async function errorFromResponse(response: Response): Promise<ApiStatusError> {
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { code?: ErrorCode; message?: string } }
    | undefined
  const message = body?.error?.message ?? (response.statusText || `HTTP ${response.status}`)
  const ErrorClass =
    response.status === 400
      ? BadRequestError
      : response.status === 401
        ? AuthenticationError
        : response.status === 404
          ? NotFoundError
          : response.status === 429
            ? RateLimitError
            : response.status >= 500
              ? InternalServerError
              : ApiStatusError
  return new ErrorClass(response.status, body?.error?.code, message)
}

/**
 * A typed answer's JSON body when it is a success (2xx). A handler that may also answer with a
 * `Response` of its own (/v1/ask's event stream, asked for by Accept) types as `Response` too;
 * a JSON body never is one.
 */
type SuccessBody<R> =
  R extends ClientResponse<infer T, infer S, 'json'>
    ? S extends SuccessStatusCode
      ? Exclude<T, Response>
      : never
    : never

/**
 * Waits for a client call and gives its body, or throws it as an `ApiStatusError`.
 *
 * @example
 * ```ts
 * const { hits } = await unwrap(client.v1.search.$post({ json: { query: 'b-tree' } }))
 * ```
 */
export async function unwrap<R extends ClientResponse<unknown, number, string>>(
  pending: Promise<R>,
): Promise<SuccessBody<R>> {
  const response = await pending
  if (!response.ok) throw await errorFromResponse(response as unknown as Response)
  return (await response.json()) as SuccessBody<R>
}

export interface ClientOptions {
  /** The server, e.g. `http://127.0.0.1:8000`. */
  baseUrl: string
  /** A key, for a server with API__KEYS set. */
  apiKey?: string
  /** How many times a rate-limited request (429) waits as the server asks (Retry-After) and tries again. Default: 3. */
  rateLimitRetries?: number
  /** Told before each such wait. */
  onRateLimited?: (seconds: number) => void
}

/**
 * Hono's typed client for the API (`hc<AppType>`): `client.v1.ingest.$post({ json: { url } })`.
 *
 * @example
 * ```ts
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8000', apiKey: process.env.YTRAG_API_KEY })
 * const job = await unwrap(client.v1.jobs[':jobId'].$get({ param: { jobId } }))
 * ```
 */
export function createClient({ baseUrl, apiKey, rateLimitRetries = 3, onRateLimited }: ClientOptions) {
  const fetchWithRetries: typeof fetch = async (input, init) => {
    for (let attempt = 0; ; attempt++) {
      let response: Response
      try {
        response = await fetch(input, init)
      } catch (error) {
        throw new ApiConnectionError(baseUrl, { cause: error })
      }
      if (response.status !== 429 || attempt >= rateLimitRetries) return response
      const seconds = Number(response.headers.get('retry-after')) || 1
      onRateLimited?.(seconds)
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
    }
  }
  return hc<AppType>(baseUrl, {
    fetch: fetchWithRetries,
    ...(apiKey ? { headers: { authorization: `Bearer ${apiKey}` } } : {}),
  })
}

export type Client = ReturnType<typeof createClient>
