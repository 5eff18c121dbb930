import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { get, type IncomingMessage } from 'node:http'
import { gunzipSync } from 'node:zlib'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildClientScript, generatedModule, generatedPath } from '../../../scripts/build-web.ts'
import { api } from '../src/index.ts'
import { mediaSources } from '../src/web/index.ts'

// The page as the server sends it; what it does in a browser is test/web's.
describe('the web page at /', () => {
  const key = 'page-test-key'
  let fn: FunctionUnderTest
  beforeAll(async () => {
    fn = await startFunctionUnderTest(api, { YOUTUBE_RAG__API__KEYS: createHash('sha256').update(key).digest('hex') })
  })
  afterAll(() => fn.close())

  it('is served without a key, gzipped, while /v1 still asks for one', async () => {
    const answer = await fetch(new URL('/', fn.url), { headers: { 'accept-encoding': 'gzip' } })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = await answer.text()
    expect(html).toMatch(/^<!doctype html><html lang="en">/)
    for (const id of ['ask-form', 'search-form', 'videos', 'ingest-form', 'subscribe-form', 'api-key', 'player'])
      expect(html).toContain(`id="${id}"`)
    expect((await fetch(new URL('/v1/videos', fn.url))).status).toBe(401)
  })

  it('weighs under 100 KB gzipped, and a revisit with its ETag is a 304', async () => {
    // node:http, not fetch: fetch would unzip it, and the bytes on the wire are what is weighed.
    const raw = await new Promise<IncomingMessage>((resolve, reject) =>
      get(new URL('/', fn.url), { headers: { 'accept-encoding': 'gzip' } }, resolve).on('error', reject),
    )
    expect(raw.headers['content-encoding']).toBe('gzip')
    const gzipped = Buffer.concat(await raw.toArray())
    const html = gunzipSync(gzipped).toString('utf8')
    console.log(`page: ${html.length} bytes, ${gzipped.length} gzipped`)
    expect(gzipped.length).toBeLessThan(100_000)
    const again = await fetch(new URL('/', fn.url), { headers: { 'if-none-match': raw.headers.etag! } })
    expect(again.status).toBe(304)
  })

  it('allows only its own inline script and style, by hash', async () => {
    const answer = await fetch(new URL('/', fn.url))
    const policy = answer.headers.get('content-security-policy')!
    const html = await answer.text()
    const inline = (tag: string) => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html)![1]!
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`
    expect(policy).toContain(`script-src ${hash(inline('script'))} https://www.youtube.com`)
    expect(policy).toContain(`style-src ${hash(inline('style'))}`)
    expect(policy).toContain('frame-src https://www.youtube-nocookie.com')
    // Ingest allows YouTube alone here, whose videos have no media URL: media from this origin only.
    expect(policy).toContain("media-src 'self';")
  })

  it("allows the player's <video> media from the ingest allow-list's hosts alone", () => {
    expect(
      mediaSources([
        'talks.example',
        '127.0.0.1:4000',
        'https://Media.Example.org/',
        '*.cdn.example',
        'www.youtube.com',
        '*.youtube.com',
        '[::1]:4000',
        "evil.example 'unsafe-inline'",
        'a;b',
      ]),
    ).toEqual(['talks.example:*', '127.0.0.1:4000', 'media.example.org:*', '*.cdn.example:*'])
  })

  it('inlines the script client.ts builds to (else: npm run build:web)', async () => {
    expect(readFileSync(generatedPath, 'utf8'), 'client.generated.ts is stale: run npm run build:web').toBe(
      generatedModule(await buildClientScript()),
    )
  })

  it('is no part of the OpenAPI document', async () => {
    const document = (await (await fetch(new URL('/openapi.json', fn.url))).json()) as {
      paths: Record<string, unknown>
    }
    expect(Object.keys(document.paths).every((path) => path.startsWith('/v1/'))).toBe(true)
  })
})
