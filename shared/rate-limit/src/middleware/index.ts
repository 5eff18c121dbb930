import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'
import { API_KEY_ID } from '../api-keys/index.ts'
import type { RateLimiter } from '../limiter/index.ts'

export interface RateLimitMiddlewareOptions {
  limiter: RateLimiter
  /** Behind a proxy that sets X-Forwarded-For (Knative's ingress), the client is its first address. */
  trustProxy?: boolean
  /** Called when the limiter itself fails; the request is let through (availability over strictness). */
  onError?: (error: unknown) => void
}

/**
 * The client a request counts against: the API key that `apiKeyAuth` checked (never a key it
 * did not: a made-up key per request would be a fresh bucket per request), else its address.
 */
function clientKey(c: Context, trustProxy: boolean): string {
  const apiKeyId = c.get(API_KEY_ID)
  if (apiKeyId) return `key:${apiKeyId}`
  return `ip:${clientAddress(c, trustProxy)}`
}

/** The client's address: the first X-Forwarded-For address behind a trusted proxy, else the socket's. */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim()
    if (forwarded) return forwarded
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

/**
 * Limits requests per client and answers `429` with `Retry-After` past the limit, with the
 * `RateLimit-*` headers on every answer.
 *
 * @example
 * ```ts
 * app.use('/v1/*', rateLimit({ limiter: memoryRateLimiter({ requests: 120, windowSeconds: 60 }) }))
 * ```
 */
export function rateLimit(options: RateLimitMiddlewareOptions): MiddlewareHandler {
  const trustProxy = options.trustProxy ?? false
  return async (c, next) => {
    let decision
    try {
      decision = await options.limiter.hit(clientKey(c, trustProxy))
    } catch (error) {
      options.onError?.(error)
      return next()
    }
    const headers = {
      'RateLimit-Limit': String(decision.limit),
      'RateLimit-Remaining': String(decision.remaining),
      'RateLimit-Reset': String(decision.resetSeconds),
    }
    if (!decision.allowed) {
      return c.json(
        { error: { code: 'rate_limited', message: `too many requests; try again in ${decision.resetSeconds} s` } },
        429,
        { ...headers, 'Retry-After': String(decision.resetSeconds) },
      )
    }
    await next()
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value)
  }
}
