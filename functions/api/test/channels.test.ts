// The subscriptions API over HTTP: a channel URL in any of its forms resolved to the channel id
// (the fixture channel's page names it as YouTube's do), the backfill started, list, sync, delete.
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { fixtureChannel, startFixtureServer, type FixtureChannel, type FixtureServer } from '@ytrag/youtube/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api } from '../src/index.ts'

const post = (fn: FunctionUnderTest, path: string, body?: unknown) =>
  fetch(new URL(path, fn.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

describe('api: channel subscriptions', () => {
  let site: FixtureServer
  let channel: FixtureChannel
  let fn: FunctionUnderTest
  beforeAll(async () => {
    site = await startFixtureServer()
    channel = fixtureChannel(site, {
      channelId: 'UCfixtureChannel00000001',
      title: 'Fixture talks',
      videos: [{ name: 'indexing', title: 'Indexing', published: new Date() }],
    })
    fn = await startFunctionUnderTest(api, {
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: `www.youtube.com,${site.host}`,
      YOUTUBE_RAG__CHANNELS__BACKFILL: '4',
    })
  })
  afterAll(async () => {
    await fn.close()
    await site.close()
  })

  it('subscribes by page URL: resolves the channel id, stores the options and starts the backfill', async () => {
    const answer = await post(fn, '/v1/channels', {
      url: channel.url,
      languages: ['en'],
      speechToText: true,
      intervalSeconds: 7200,
    })
    expect(answer.status).toBe(201)
    const { channel: made, jobId } = (await answer.json()) as { channel: Record<string, unknown>; jobId: string }
    expect(made).toMatchObject({
      channelId: 'UCfixtureChannel00000001',
      title: 'Fixture talks',
      url: channel.url,
      listUrl: channel.url,
      languages: ['en'],
      speechToText: true,
      intervalSeconds: 7200,
      backfill: 4,
      consecutiveFailures: 0,
    })
    // The schedule takes over about one interval later (give or take the jitter).
    const untilNext = Date.parse(made.nextSyncAt as string) - Date.now()
    expect(untilNext).toBeGreaterThan(7200_000 * 0.85)
    expect(untilNext).toBeLessThan(7200_000 * 1.15)
    const sent = fn.sink.events.find((event) => event.name === 'channel.resync.requested')
    expect(sent?.data).toEqual({
      jobId,
      channelId: 'UCfixtureChannel00000001',
      url: channel.url,
      reason: 'subscribed',
      backfill: 4,
    })
    expect((await (await fetch(new URL(`/v1/jobs/${jobId}`, fn.url))).json()) as object).toMatchObject({
      status: 'queued',
    })
  })

  it('updates the options on a second subscribe without another backfill unless asked', async () => {
    const before = fn.sink.events.length
    const again = await post(fn, '/v1/channels', { url: channel.url, intervalSeconds: 3600 })
    expect(again.status).toBe(200)
    expect((await again.json()) as { channel: { intervalSeconds: number }; jobId?: string }).toMatchObject({
      channel: { intervalSeconds: 3600 },
    })
    expect(fn.sink.events.length).toBe(before)
    const all = await post(fn, '/v1/channels', { url: channel.url, backfill: 'all' })
    expect(((await all.json()) as { jobId?: string }).jobId).toBeDefined()
    expect(fn.sink.events.at(-1)?.data).toMatchObject({ reason: 'subscribed', backfill: 'all' })
  })

  it('takes /channel/UC… URLs as they are, without fetching anything', async () => {
    const answer = await post(fn, '/v1/channels', {
      url: 'https://www.youtube.com/channel/UCXuqSBlHAE6Xw-yeJA0Tunw',
      backfill: 0,
    })
    expect(answer.status).toBe(201)
    expect(((await answer.json()) as { channel: object }).channel).toMatchObject({
      channelId: 'UCXuqSBlHAE6Xw-yeJA0Tunw',
      listUrl: 'https://www.youtube.com/channel/UCXuqSBlHAE6Xw-yeJA0Tunw/videos',
    })
  })

  it('lists, shows, syncs on demand and unsubscribes', async () => {
    const list = (await (await fetch(new URL('/v1/channels', fn.url))).json()) as { items: { channelId: string }[] }
    expect(list.items.map((item) => item.channelId)).toEqual(['UCfixtureChannel00000001', 'UCXuqSBlHAE6Xw-yeJA0Tunw'])
    expect((await fetch(new URL('/v1/channels/UCfixtureChannel00000001', fn.url))).status).toBe(200)
    const sync = await post(fn, '/v1/channels/UCfixtureChannel00000001/sync')
    expect(sync.status).toBe(202)
    const { jobId } = (await sync.json()) as { jobId: string }
    expect(fn.sink.events.at(-1)?.data).toEqual({
      jobId,
      channelId: 'UCfixtureChannel00000001',
      url: channel.url,
      reason: 'manual',
    })
    const deleted = await fetch(new URL('/v1/channels/UCXuqSBlHAE6Xw-yeJA0Tunw', fn.url), { method: 'DELETE' })
    expect(deleted.status).toBe(200)
    expect((await fetch(new URL('/v1/channels/UCXuqSBlHAE6Xw-yeJA0Tunw', fn.url))).status).toBe(404)
    expect((await post(fn, '/v1/channels/UCXuqSBlHAE6Xw-yeJA0Tunw/sync')).status).toBe(404)
  })

  it('keeps every option on a second subscribe that sends only the URL, and changes only the options sent', async () => {
    const other = fixtureChannel(site, {
      channelId: 'UCfixtureChannel00000002',
      title: 'Other talks',
      path: '/other.html',
      videos: [{ name: 'indexing', title: 'Indexing', published: new Date() }],
    })
    const options = { backfill: 0, intervalSeconds: 8, languages: ['en'], speechToText: true }
    const first = await post(fn, '/v1/channels', { url: other.url, ...options })
    expect(first.status).toBe(201)
    const { channel: made } = (await first.json()) as { channel: Record<string, unknown> }
    expect(made).toMatchObject(options)

    const before = fn.sink.events.length
    const again = await post(fn, '/v1/channels', { url: other.url })
    expect(again.status).toBe(200)
    expect(((await again.json()) as { channel: object }).channel).toEqual(made)
    // Not asked to backfill, so no sync either.
    expect(fn.sink.events.length).toBe(before)
    const shown = (await (await fetch(new URL('/v1/channels/UCfixtureChannel00000002', fn.url))).json()) as object
    expect(shown).toEqual(made)

    const some = await post(fn, '/v1/channels', { url: other.url, languages: ['de', 'en'] })
    expect(some.status).toBe(200)
    const { channel: changed } = (await some.json()) as { channel: Record<string, unknown> }
    expect(changed).toEqual({ ...made, languages: ['de', 'en'], updatedAt: changed.updatedAt })
    expect(await (await fetch(new URL('/v1/channels/UCfixtureChannel00000002', fn.url))).json()).toEqual(changed)
  })

  it('refuses a page whose identifier is not a channel id, naming what it found', async () => {
    // A video's page names the video in itemprop="identifier", as YouTube's video pages do.
    site.setPage({
      path: '/a-video.html',
      title: 'A video',
      videos: [],
      head: '<meta itemprop="identifier" content="Td2-hY6uWk9">\n',
    })
    const answer = await post(fn, '/v1/channels', { url: site.url('/a-video.html') })
    expect(answer.status).toBe(400)
    const { error } = (await answer.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('not_a_channel')
    expect(error.message).toContain('"Td2-hY6uWk9"')
    expect((await fetch(new URL('/v1/channels/Td2-hY6uWk9', fn.url))).status).toBe(404)
  })

  it.each([
    ['a video URL', { url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' }, 400, 'not_a_channel'],
    ['a host not allowed', { url: 'https://evil.example/@someone' }, 400, 'host_not_allowed'],
    ['a page that names no channel', { url: 'PAGE:/indexing.html' }, 400, 'not_a_channel'],
    ['a missing url', {}, 400, 'invalid_request'],
    ['a bad backfill', { url: 'PAGE:/uploads.html', backfill: 'some' }, 400, 'invalid_request'],
  ])('refuses %s with a clear error', async (_, body, status, code) => {
    const request =
      'url' in body && typeof body.url === 'string' && body.url.startsWith('PAGE:')
        ? { ...body, url: site.url(body.url.slice(5)) }
        : body
    const answer = await post(fn, '/v1/channels', request)
    expect(answer.status).toBe(status)
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe(code)
  })
})
