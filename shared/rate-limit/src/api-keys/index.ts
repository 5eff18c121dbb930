import { createHash, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'

/** Where `apiKeyAuth` leaves the checked key's id (a prefix of its hash) for the rate limiter. */
export const API_KEY_ID = 'ytragApiKeyId'

declare module 'hono' {
  interface ContextVariableMap {
    [API_KEY_ID]?: string
  }
}

/**
 * The SHA-256 (hex) of a key, the form API__KEYS holds: the Secret never has the keys themselves.
 *
 * @example
 * hashApiKey('s3cret') // '4e738ca5…'
 */
export const hashApiKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex')

/** The key a request presents: `Authorization: Bearer KEY`, else `x-api-key: KEY`. */
export function presentedKey(c: Context): string | undefined {
  const authorization = c.req.header('authorization')
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1]
  return bearer ?? (c.req.header('x-api-key')?.trim() || undefined)
}

/**
 * Refuses requests without one of the keys whose hashes are given, with 401 and
 * `{error:{code:'unauthorized'}}`. Each presented key is hashed and compared with every known
 * hash in constant time, so the answer's timing tells nothing about how close a guess was. The
 * checked key's id is left on the context: the rate limiter counts per key, and only per
 * known key.
 *
 * @example
 * ```ts
 * app.use('/v1/*', apiKeyAuth({ hashes: config.api.keys }))
 * ```
 */
export function apiKeyAuth(options: { hashes: string[] }): MiddlewareHandler {
  const known = options.hashes.map((hash) => Buffer.from(hash, 'hex'))
  return async (c, next) => {
    const key = presentedKey(c)
    if (key === undefined)
      return unauthorized(c, 'an API key is required (Authorization: Bearer KEY or x-api-key: KEY)')
    const digest = createHash('sha256').update(key, 'utf8').digest()
    let match: Buffer | undefined
    // Every hash is compared, even after a match, so the time taken does not say which one.
    for (const hash of known) if (timingSafeEqual(hash, digest)) match = hash
    if (!match) return unauthorized(c, 'the API key is not valid')
    c.set(API_KEY_ID, match.toString('hex').slice(0, 16))
    await next()
  }
}

const unauthorized = (c: Context, message: string) =>
  c.json({ error: { code: 'unauthorized', message } }, 401, { 'WWW-Authenticate': 'Bearer realm="youtube-rag"' })
