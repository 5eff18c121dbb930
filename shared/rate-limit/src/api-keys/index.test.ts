import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { serveOnLoopback } from '../../test/serve.ts'
import { memoryRateLimiter } from '../limiter/index.ts'
import { rateLimit } from '../middleware/index.ts'
import { apiKeyAuth, hashApiKey } from './index.ts'

async function served(hashes: string[], requests = 2) {
  const app = new Hono()
  app.use('/v1/*', apiKeyAuth({ hashes }))
  app.use('/v1/*', rateLimit({ limiter: memoryRateLimiter({ requests, windowSeconds: 60 }) }))
  app.get('/v1/thing', (c) => c.json({ ok: true }))
  app.get('/health/live', (c) => c.json({ ok: true }))
  return serveOnLoopback(app)
}

describe('apiKeyAuth', () => {
  it('hashes keys as sha256 hex, the form API__KEYS holds', () => {
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('takes a known key as Bearer or x-api-key and refuses a missing or unknown one with 401', async () => {
    const { base, close } = await served([hashApiKey('alpha'), hashApiKey('beta')])
    try {
      expect((await fetch(`${base}/v1/thing`, { headers: { authorization: 'Bearer alpha' } })).status).toBe(200)
      expect((await fetch(`${base}/v1/thing`, { headers: { 'x-api-key': 'beta' } })).status).toBe(200)
      for (const headers of [
        {},
        { 'x-api-key': 'gamma' },
        { authorization: 'Bearer alph' },
        { authorization: 'Basic YWxwaGE6' },
        { 'x-api-key': hashApiKey('alpha') },
      ] as Record<string, string>[]) {
        const answer = await fetch(`${base}/v1/thing`, { headers })
        expect(answer.status, JSON.stringify(headers)).toBe(401)
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/)
        const body = (await answer.json()) as { error: { code: string; message: string } }
        expect(body.error.code).toBe('unauthorized')
        expect(body.error.message.length).toBeGreaterThan(10)
      }
      // Health is not behind keys.
      expect((await fetch(`${base}/health/live`)).status).toBe(200)
    } finally {
      await close()
    }
  })

  it('counts per known key: one key spent leaves another its own requests, and unknown keys never count', async () => {
    const { base, close } = await served([hashApiKey('alpha'), hashApiKey('beta')])
    try {
      const as = (key: string) => fetch(`${base}/v1/thing`, { headers: { 'x-api-key': key } }).then((r) => r.status)
      // Unknown keys are refused before the limiter: they spend nobody's requests.
      for (let i = 0; i < 5; i++) expect(await as(`made-up-${i}`)).toBe(401)
      expect([await as('alpha'), await as('alpha'), await as('alpha')]).toEqual([200, 200, 429])
      expect(await as('beta')).toBe(200)
    } finally {
      await close()
    }
  })
})
