import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { memoryRateLimiter, redisRateLimiter, type RateLimiter } from './index.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

async function exhaust(limiter: RateLimiter, key: string, times: number) {
  const decisions = []
  for (let i = 0; i < times; i++) decisions.push(await limiter.hit(key))
  return decisions
}

describe('memoryRateLimiter', () => {
  it('allows the limit per window and key, then refuses until the window turns', async () => {
    let time = 60_000 * 10 + 5_000
    const limiter = memoryRateLimiter({ requests: 3, windowSeconds: 60, now: () => time })
    const decisions = await exhaust(limiter, 'a', 4)
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false])
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0])
    expect(decisions[3]!.resetSeconds).toBe(55)
    expect((await limiter.hit('b')).allowed).toBe(true)
    time += 55_000
    expect((await limiter.hit('a')).allowed).toBe(true)
  })

  it('holds at most maxClients windows within one window, the least recent going first', async () => {
    const limiter = memoryRateLimiter({ requests: 2, windowSeconds: 60, maxClients: 1000 })
    await exhaust(limiter, 'steady', 2)
    for (let i = 0; i < 20_000; i++) {
      await limiter.hit(`flood-${i}`)
      // A client still at work stays in the cache while the flood passes through it.
      if (i % 500 === 0) await limiter.hit('steady')
    }
    expect(limiter.size).toBe(1000)
    expect((await limiter.hit('steady')).allowed).toBe(false)
  })
})

describe('redisRateLimiter (the running Redis)', () => {
  it('counts across limiter instances, as replicas share Redis', async () => {
    const prefix = `test:${randomUUID()}:`
    const one = await redisRateLimiter({ url: REDIS_URL, requests: 5, windowSeconds: 60, prefix })
    const two = await redisRateLimiter({ url: REDIS_URL, requests: 5, windowSeconds: 60, prefix })
    try {
      await exhaust(one, 'client', 3)
      const decisions = await exhaust(two, 'client', 3)
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, false])
      expect(decisions[2]!.resetSeconds).toBeGreaterThan(0)
      expect(decisions[2]!.resetSeconds).toBeLessThanOrEqual(60)
      expect((await one.hit('other')).allowed).toBe(true)
      await one.ping()
    } finally {
      await one.close()
      await two.close()
    }
  })

  it('counts concurrent hits exactly', async () => {
    const limiter = await redisRateLimiter({
      url: REDIS_URL,
      requests: 20,
      windowSeconds: 60,
      prefix: `test:${randomUUID()}:`,
    })
    try {
      const decisions = await Promise.all(Array.from({ length: 30 }, () => limiter.hit('burst')))
      expect(decisions.filter((d) => d.allowed)).toHaveLength(20)
    } finally {
      await limiter.close()
    }
  })

  it('says which Redis is unreachable', async () => {
    await expect(
      redisRateLimiter({ url: 'redis://127.0.0.1:1', requests: 1, windowSeconds: 1, connectTimeoutMs: 300 }),
    ).rejects.toThrow(/Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/)
  })
})
