// The server's own outbound GETs (a channel's page, its feed): each hop of a redirect checked by
// the same rule as the egress proxy, connected to the checked address, bounded in size and time.
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIPv6, type LookupFunction } from 'node:net'
import { checkHost, type IngestUrlOptions } from '../ingest-url/index.ts'

export type GuardedFetchErrorCode =
  | 'host_not_allowed'
  | 'private_address'
  | 'unresolved'
  | 'unsupported_scheme'
  | 'too_many_redirects'
  | 'too_large'
  | 'timeout'
  | 'network'

/** A guarded fetch that did not get an answer; `code` says why (a `timeout` is the API's 504). */
export class GuardedFetchError extends Error {
  override name = 'GuardedFetchError'
  constructor(
    readonly code: GuardedFetchErrorCode,
    message: string,
    readonly url: string,
  ) {
    super(message)
  }
}

export type GuardedFetchOptions = IngestUrlOptions & {
  /** The whole fetch, every hop and the body included. Default 15 s. */
  timeoutMs?: number
  /** The most body bytes read. Default 2 MB. */
  maxBytes?: number
  /** Redirects followed at most. Default 5. */
  maxRedirects?: number
  headers?: Record<string, string>
}

export type GuardedResponse = {
  status: number
  headers: Headers
  /** The URL the answer came from, after redirects. */
  url: string
  body: string
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** A `lookup` that answers with the address already checked, so the name is not resolved twice. */
const pinned = (address: string): LookupFunction => {
  const family = isIPv6(address) ? 6 : 4
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }])
    else callback(null, address, family)
  }) as unknown as LookupFunction
}

/** One GET of one hop; gives the head and (unless a redirect) the body, within the deadline. */
function getOnce(
  url: URL,
  address: string,
  options: GuardedFetchOptions,
  deadline: AbortSignal,
  maxBytes: number,
): Promise<{ response: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const request = send(url, {
      method: 'GET',
      headers: options.headers ?? {},
      lookup: pinned(address),
      signal: deadline,
    })
    request.on('error', (error) => {
      if (deadline.aborted)
        reject(
          new GuardedFetchError(
            'timeout',
            `no complete answer from ${url.host} within ${(options.timeoutMs ?? 15_000) / 1000} s`,
            url.href,
          ),
        )
      else reject(new GuardedFetchError('network', `could not fetch ${url.href}: ${error.message}`, url.href))
    })
    request.on('response', (response) => {
      if (REDIRECTS.has(response.statusCode ?? 0)) {
        response.resume()
        resolve({ response, body: '' })
        return
      }
      const declared = Number(response.headers['content-length'])
      if (Number.isFinite(declared) && declared > maxBytes) {
        request.destroy()
        reject(
          new GuardedFetchError(
            'too_large',
            `${url.href} is ${declared} bytes; at most ${maxBytes} are read`,
            url.href,
          ),
        )
        return
      }
      const chunks: Buffer[] = []
      let bytes = 0
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (bytes > maxBytes) {
          request.destroy()
          reject(
            new GuardedFetchError(
              'too_large',
              `${url.href} is over ${maxBytes} bytes; at most ${maxBytes} are read`,
              url.href,
            ),
          )
          return
        }
        chunks.push(chunk)
      })
      response.on('end', () => resolve({ response, body: Buffer.concat(chunks).toString('utf8') }))
      response.on('error', (error) => request.emit('error', error))
    })
    request.end()
  })
}

/**
 * GETs a URL the way the server may fetch anything on a user's behalf: redirects are followed by
 * hand (at most `maxRedirects`) and every hop, the first included, must pass `checkHost` (the
 * allow-list and the private-address rule, after resolving); the connection goes to the checked
 * address. The body is read up to `maxBytes`, and the whole exchange gets `timeoutMs`.
 *
 * @example
 * ```ts
 * const page = await guardedFetch(url, { allowedHosts: config.ingest.allowedHosts, timeoutMs: 15_000 })
 * page.status // 200, or the final hop's status
 * ```
 */
export async function guardedFetch(input: string, options: GuardedFetchOptions): Promise<GuardedResponse> {
  const timeoutMs = options.timeoutMs ?? 15_000
  const maxBytes = options.maxBytes ?? 2_000_000
  const maxRedirects = options.maxRedirects ?? 5
  const deadline = AbortSignal.timeout(timeoutMs)
  let url = new URL(input)
  for (let hop = 0; ; hop += 1) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new GuardedFetchError('unsupported_scheme', `${url.href}: only http:// and https:// are fetched`, url.href)
    }
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
    const checked = await checkHost(url.hostname, port, options)
    if (!checked.ok) {
      const via = hop > 0 ? ` (reached by a redirect from ${input})` : ''
      throw new GuardedFetchError(checked.code, `${checked.message}${via}`, url.href)
    }
    if (deadline.aborted)
      throw new GuardedFetchError(
        'timeout',
        `no complete answer from ${url.host} within ${timeoutMs / 1000} s`,
        url.href,
      )
    const { response, body } = await getOnce(url, checked.addresses[0]!, options, deadline, maxBytes)
    const status = response.statusCode ?? 502
    const location = response.headers.location
    if (REDIRECTS.has(status) && location) {
      if (hop >= maxRedirects)
        throw new GuardedFetchError(
          'too_many_redirects',
          `${input} redirects more than ${maxRedirects} times`,
          url.href,
        )
      url = new URL(location, url)
      continue
    }
    const headers = new Headers()
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value)
    }
    return { status, headers, url: url.href, body }
  }
}
