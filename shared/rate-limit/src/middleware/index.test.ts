import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { serveOnLoopback } from '../../test/serve.ts'
import { memoryRateLimiter, type RateLimiter } from '../limiter/index.ts'
import { rateLimit } from './index.ts'

async function served(limiter: RateLimiter, trustProxy = false) {
  const app = new Hono()
  app.use('/v1/*', rateLimit({ limiter, trustProxy }))
  app.get('/v1/thing', (c) => c.json({ ok: true }))
  app.get('/health/live', (c) => c.json({ ok: true }))
  return serveOnLoopback(app)
}

describe('rateLimit', () => {
  it('answers 429 with Retry-After past the limit, per client address, leaving other routes alone', async () => {
    const { base, close } = await served(memoryRateLimiter({ requests: 2, windowSeconds: 30 }))
    try {
      const answers = [
        await fetch(`${base}/v1/thing`),
        await fetch(`${base}/v1/thing`),
        await fetch(`${base}/v1/thing`),
      ]
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429])
      expect(answers[0]!.headers.get('ratelimit-remaining')).toBe('1')
      expect(Number(answers[2]!.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(await answers[2]!.json()).toMatchObject({ error: { code: 'rate_limited' } })
      expect((await fetch(`${base}/health/live`)).status).toBe(200)
      // A key nobody checked is not a client of its own: inventing one per request gets no fresh bucket.
      expect((await fetch(`${base}/v1/thing`, { headers: { 'x-api-key': 'k1' } })).status).toBe(429)
    } finally {
      await close()
    }
  })

  it('trusts X-Forwarded-For only when told to', async () => {
    const spoofed = await served(memoryRateLimiter({ requests: 1, windowSeconds: 30 }))
    try {
      expect((await fetch(`${spoofed.base}/v1/thing`, { headers: { 'x-forwarded-for': '198.51.100.1' } })).status).toBe(
        200,
      )
      expect((await fetch(`${spoofed.base}/v1/thing`, { headers: { 'x-forwarded-for': '198.51.100.2' } })).status).toBe(
        429,
      )
    } finally {
      await spoofed.close()
    }
    const proxied = await served(memoryRateLimiter({ requests: 1, windowSeconds: 30 }), true)
    try {
      expect(
        (await fetch(`${proxied.base}/v1/thing`, { headers: { 'x-forwarded-for': '198.51.100.1, 10.0.0.1' } })).status,
      ).toBe(200)
      expect((await fetch(`${proxied.base}/v1/thing`, { headers: { 'x-forwarded-for': '198.51.100.2' } })).status).toBe(
        200,
      )
    } finally {
      await proxied.close()
    }
  })

  it('lets requests through when the limiter fails', async () => {
    const broken: RateLimiter = {
      hit: async () => Promise.reject(new Error('down')),
      ping: async () => {},
      close: async () => {},
    }
    const { base, close } = await served(broken)
    try {
      expect((await fetch(`${base}/v1/thing`)).status).toBe(200)
    } finally {
      await close()
    }
  })
})
