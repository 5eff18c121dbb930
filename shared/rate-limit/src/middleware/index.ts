import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'
import type { RateLimiter } from '../limiter/index.ts'

export interface RateLimitMiddlewareOptions {
  limiter: RateLimiter
  /** Behind a proxy that sets X-Forwarded-For (Knative's ingress), the client is its first address. */
  trustProxy?: boolean
  /** Called when the limiter itself fails; the request is let through (availability over strictness). */
  onError?: (error: unknown) => void
}

/** The client a request counts against: its API key when it sends one, else its address. */
function clientKey(c: Context, trustProxy: boolean): string {
  const apiKey = c.req.header('x-api-key')
  if (apiKey) return `key:${apiKey}`
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim()
    if (forwarded) return `ip:${forwarded}`
  }
  try {
    return `ip:${getConnInfo(c).remote.address ?? 'unknown'}`
  } catch {
    return 'ip:unknown'
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
