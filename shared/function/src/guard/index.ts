import { isIP } from 'node:net'
import type { MiddlewareHandler } from 'hono'
import { ApiError, type ErrorCode } from '../errors/index.ts'

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** A host name without its port and brackets, lower-cased: `[::1]:8000` → `::1`. */
function hostnameOf(host: string): string {
  const trimmed = host.trim().toLowerCase()
  if (trimmed.startsWith('[')) return trimmed.slice(1, trimmed.indexOf(']') === -1 ? undefined : trimmed.indexOf(']'))
  const colon = trimmed.lastIndexOf(':')
  return colon === -1 || trimmed.indexOf(':') !== colon ? trimmed : trimmed.slice(0, colon)
}

const isLocalhostName = (name: string) => name === 'localhost' || name.endsWith('.localhost')
const isLoopbackAddress = (name: string) => name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name)

/** application/json or any `+json` type, parameters aside. */
export const isJsonContentType = (contentType: string | undefined) => {
  const type = contentType?.split(';')[0]?.trim().toLowerCase()
  return type !== undefined && (type === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(type))
}

export interface LocalGuardOptions {
  /** Names served besides localhost names and IP addresses: the configured host, SERVER__ALLOWED_HOSTS. */
  hosts: string[]
}

/**
 * Local mode's guard against the web pages its user visits. A page on another site can make the
 * browser send simple requests here (a form's POST with text/plain) and, by rebinding its own
 * name to 127.0.0.1, read the answers. So: only requests addressed to a name this server serves
 * are answered (an IP address cannot be rebound, a foreign name can), and a state-changing
 * POST must be JSON (which a page can send cross-site only after a CORS preflight, which is
 * never granted) and must not come from a foreign Origin.
 *
 * @example
 * ```ts
 * app.use(localGuard({ hosts: ['127.0.0.1'] }))
 * ```
 */
export function localGuard(options: LocalGuardOptions): MiddlewareHandler {
  const served = new Set(
    options.hosts.map(hostnameOf).filter((name) => name !== '' && name !== '0.0.0.0' && name !== '::'),
  )
  const servedHost = (name: string) => isLocalhostName(name) || isIP(name) !== 0 || served.has(name)
  // An Origin is a page: only pages served from this machine's own names are at home here.
  const homeOrigin = (name: string) => isLocalhostName(name) || isLoopbackAddress(name) || served.has(name)
  const refuse = (status: 403 | 415 | 421, code: ErrorCode, message: string) =>
    new ApiError(status, code, message).getResponse()

  return async (c, next) => {
    const host = c.req.header('host')
    if (!host || !servedHost(hostnameOf(host))) {
      return refuse(
        421,
        'unknown_host',
        `this server does not answer for host ${JSON.stringify(host ?? '')}; add it to YOUTUBE_RAG__SERVER__ALLOWED_HOSTS if it is yours`,
      )
    }
    if (STATE_CHANGING.has(c.req.method)) {
      const origin = c.req.header('origin')
      if (origin !== undefined) {
        let originHost: string | undefined
        try {
          originHost = new URL(origin).hostname
        } catch {
          originHost = undefined
        }
        if (originHost === undefined || !homeOrigin(hostnameOf(originHost))) {
          return refuse(
            403,
            'forbidden_origin',
            `requests that change state are not taken from pages of ${JSON.stringify(origin)}`,
          )
        }
      }
      if (c.req.header('sec-fetch-site') === 'cross-site') {
        return refuse(403, 'forbidden_origin', 'requests that change state are not taken from pages of other sites')
      }
      // POST is what a page may send cross-site without asking (a form); PUT, PATCH and DELETE are preflighted.
      if (c.req.method === 'POST' && !isJsonContentType(c.req.header('content-type'))) {
        return refuse(
          415,
          'unsupported_media_type',
          'requests that change state must be sent as content-type: application/json',
        )
      }
    }
    await next()
  }
}
