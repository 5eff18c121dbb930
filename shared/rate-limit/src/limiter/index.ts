import { LRUCache } from 'lru-cache'

export interface RateDecision {
  allowed: boolean
  limit: number
  remaining: number
  /** Seconds until the window resets. */
  resetSeconds: number
}

/** Counts requests per client key in fixed windows. */
export interface RateLimiter {
  hit(key: string): Promise<RateDecision>
  ping(): Promise<void>
  close(): Promise<void>
  /** How many clients' windows the limiter holds in this process (the in-memory one only). */
  readonly size?: number
}

export interface RateLimitOptions {
  /** Requests allowed per window and key. */
  requests: number
  windowSeconds: number
}

const decide = (count: number, limit: number, resetSeconds: number): RateDecision => ({
  allowed: count <= limit,
  limit,
  remaining: Math.max(0, limit - count),
  resetSeconds: Math.max(1, Math.ceil(resetSeconds)),
})

/**
 * A limiter in this process's memory, for the local server (one process, one client set). It
 * keeps at most `maxClients` windows, the least recently used going first, so a flood of new
 * clients costs a bounded amount of memory (an evicted client merely starts a fresh window).
 *
 * @example
 * ```ts
 * const limiter = memoryRateLimiter({ requests: 120, windowSeconds: 60 })
 * const { allowed } = await limiter.hit('203.0.113.7')
 * ```
 */
export function memoryRateLimiter(
  options: RateLimitOptions & { now?: () => number; maxClients?: number },
): RateLimiter {
  const now = options.now ?? Date.now
  const windowMs = options.windowSeconds * 1000
  // Made by the first request, not at start: lru-cache allocates its tables for `max` entries up front.
  let windowCache: LRUCache<string, { start: number; count: number }> | undefined
  return {
    async hit(key) {
      windowCache ??= new LRUCache({ max: options.maxClients ?? 10_000 })
      const windows = windowCache
      const time = now()
      const start = time - (time % windowMs)
      let window = windows.get(key)
      if (!window || window.start !== start) {
        window = { start, count: 0 }
        windows.set(key, window)
      }
      window.count += 1
      return decide(window.count, options.requests, (start + windowMs - time) / 1000)
    },
    async ping() {},
    async close() {
      windowCache?.clear()
    },
    get size() {
      return windowCache?.size ?? 0
    },
  }
}

/**
 * A limiter shared by every replica through Redis: one counter per key and window, created
 * with its expiry in the same transaction so a crash cannot leave a counter that never resets.
 *
 * @example
 * ```ts
 * const limiter = await redisRateLimiter({ url: 'redis://127.0.0.1:6379', requests: 120, windowSeconds: 60 })
 * ```
 */
/** Connection attempts before start-up gives up on Redis. */
const STARTUP_ATTEMPTS = 3

export async function redisRateLimiter(
  options: RateLimitOptions & { url: string; prefix?: string; connectTimeoutMs?: number },
): Promise<RateLimiter> {
  // Imported here, not with the module: the Redis client is over a megabyte of JavaScript that
  // only a limiter in Redis needs (the in-memory one, local mode, never reads it). The package is
  // CommonJS: a bundle's chunk of it exports only `default`, tsx only the names (the package says
  // __esModule), Node both.
  const redis = await import('redis')
  const createClient = redis.createClient ?? redis.default.createClient
  const prefix = options.prefix ?? 'ytrag:rate:'
  let connected = false
  const client = createClient({
    url: options.url,
    socket: {
      connectTimeout: options.connectTimeoutMs ?? 2000,
      // Start-up tries STARTUP_ATTEMPTS times, then fails with the cause: a start that loads and
      // compiles other adapters beside this connect can hold the event loop past the timeout on
      // a busy machine, though the connection itself was made. A connection lost later is retried.
      reconnectStrategy: (retries: number, cause: Error) =>
        connected ? Math.min(retries * 200, 2000) : retries < STARTUP_ATTEMPTS - 1 ? 250 * (retries + 1) : cause,
    },
  })
  // Without a listener a connection error would crash the process; the limiter reports it per call instead.
  client.on('error', () => {})
  await client.connect().catch((error: Error) => {
    throw new Error(`Redis at ${options.url} is unreachable: ${error.message}`)
  })
  connected = true
  const windowMs = options.windowSeconds * 1000
  return {
    async hit(key) {
      const window = Math.floor(Date.now() / windowMs)
      const redisKey = `${prefix}${window}:${key}`
      const [count, , ttl] = (await client
        .multi()
        .incr(redisKey)
        .pExpire(redisKey, windowMs, 'NX')
        .pTTL(redisKey)
        .exec()) as unknown as [number, unknown, number]
      return decide(Number(count), options.requests, Number(ttl ?? windowMs) / 1000)
    },
    async ping() {
      try {
        await client.ping()
      } catch (error) {
        throw new Error(`Redis at ${options.url} is unreachable: ${(error as Error).message}`)
      }
    },
    async close() {
      await client.quit().catch(() => client.destroy())
    },
  }
}
