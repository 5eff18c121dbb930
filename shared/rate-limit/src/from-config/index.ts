import type { Config } from '@ytrag/config'
import { memoryRateLimiter, redisRateLimiter, type RateLimiter } from '../limiter/index.ts'

/**
 * The limiter `RATE_LIMIT__…` asks for: in memory (one process, local mode), in Redis (every
 * replica shares the counts), or none when `RATE_LIMIT__REQUESTS` is 0.
 *
 * @example
 * const limiter = await rateLimiterFromConfig(loadConfig(process.env))
 * if (limiter) app.use('/v1/*', rateLimit({ limiter }))
 */
export async function rateLimiterFromConfig(config: Config): Promise<RateLimiter | undefined> {
  const { provider, redisUrl, requests, windowSeconds, maxClients } = config.rateLimit
  if (requests === 0) return undefined
  if (provider === 'redis') return redisRateLimiter({ url: redisUrl, requests, windowSeconds })
  return memoryRateLimiter({ requests, windowSeconds, maxClients })
}
