// discover's channel re-sync over HTTP, against a fixture channel on loopback: its uploads
// feed (in YouTube's format, written by the project), its page (a playlist to yt-dlp's generic
// extractor), and the real yt-dlp for the fallback listing.
import { randomUUID } from 'node:crypto'
import { PING_EVENT_TYPE } from '@ytrag/events'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import {
  fixtureChannel,
  loadCaptionFixture,
  startFixtureServer,
  type FixtureChannel,
  type FixtureServer,
} from '@ytrag/youtube/fixtures'
import { CloudEvent, HTTP } from 'cloudevents'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { availabilityFromError, skippedStreamDue } from '../src/channels.ts'
import { discover } from '../src/index.ts'
import { BlockedByYouTubeError, classifyFailure, ExtractionError, VideoUnavailableError } from '@ytrag/youtube'
import type { Channel, ChannelDefaults } from '@ytrag/stores'

const CHANNEL_ID = 'UCfixtureChannel00000001'
/** The api's defaults for a subscription's options (the configuration's). */
const CHANNEL_DEFAULTS: ChannelDefaults = { languages: [], speechToText: false, backfill: 5, intervalSeconds: 3600 }
const day = (n: number) => new Date(Date.UTC(2026, 10, n, 12))
const videos = ['indexing', 'sourdough', 'bicycle', 'extra']

describe('discover: channel re-sync', () => {
  let site: FixtureServer
  let channel: FixtureChannel
  let fn: FunctionUnderTest

  beforeEach(async () => {
    site = await startFixtureServer({
      videos: videos.map((name) => ({
        name,
        title: name,
        captions: [{ lang: 'en', vtt: loadCaptionFixture('bicycle-history') }],
      })),
    })
    channel = fixtureChannel(site, {
      channelId: CHANNEL_ID,
      title: 'Fixture talks',
      videos: [
        { name: 'indexing', title: 'Indexing', published: day(1) },
        { name: 'sourdough', title: 'Sourdough', published: day(2) },
        { name: 'bicycle', title: 'Bicycles', published: day(3) },
      ],
    })
    fn = await startFunctionUnderTest(discover, {
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: site.host,
      YOUTUBE_RAG__CHANNELS__FEED_BASE_URL: site.origin,
      YOUTUBE_RAG__CHANNELS__HOST_SPACING_MS: '200',
    })
    await subscribe()
  })
  afterEach(async () => {
    await fn.close()
    await site.close()
  })

  /** The subscription as the api makes it: created before the videos it backfills were uploaded. */
  const subscribe = (channelId = CHANNEL_ID, url = channel.url) =>
    fn.stores.documents.upsertChannel({
      channelId,
      url,
      listUrl: url,
      defaults: CHANNEL_DEFAULTS,
      nextSyncAt: new Date(Date.now() + 3_600_000).toISOString(),
    })
  const sync = async (
    reason: 'subscribed' | 'scheduled' | 'manual',
    backfill?: number | 'all',
    channelId = CHANNEL_ID,
  ) => {
    const jobId = randomUUID()
    await fn.stores.documents.createJob({ jobId, url: channel.url })
    const answer = await fn.deliver('channel.resync.requested', channelId, {
      jobId,
      channelId,
      url: channel.url,
      reason,
      ...(backfill === undefined ? {} : { backfill }),
    })
    expect(answer.status).toBe(202)
    return jobId
  }
  /**
   * Runs a sync while watching its job, and gives the channel as read at the first moment the
   * job is terminal: what a client polling the job and then reading the channel sees.
   */
  const syncWatched = async (reason: 'scheduled' | 'manual') => {
    const jobId = randomUUID()
    await fn.stores.documents.createJob({ jobId, url: channel.url })
    let delivered = false
    const delivery = fn
      .deliver('channel.resync.requested', CHANNEL_ID, { jobId, channelId: CHANNEL_ID, url: channel.url, reason })
      .finally(() => {
        delivered = true
      })
    let seen: { status?: string; channel?: Channel | undefined } = {}
    while (!seen.channel) {
      const status = (await fn.stores.documents.getJob(jobId))?.status
      if (status === 'succeeded' || status === 'failed' || status === 'partial')
        seen = { status, channel: await fn.stores.documents.getChannel(CHANNEL_ID) }
      else if (delivered) throw new Error(`the sync ended with its job ${status}`)
      else await new Promise((done) => setTimeout(done, 1))
    }
    expect((await delivery).status).toBe(202)
    return seen as { status: string; channel: Channel }
  }
  const discovered = () =>
    fn.sink.events.filter((event) => event.name === 'video.discovered').map((event) => event.subject)
  const ping = () => {
    const message = HTTP.binary(
      new CloudEvent({
        type: PING_EVENT_TYPE,
        source: '/apis/v1/namespaces/youtube-rag/pingsources/resync-schedule',
        data: {},
      }),
    )
    return fetch(fn.url, {
      method: 'POST',
      headers: message.headers as Record<string, string>,
      body: message.body as string,
    })
  }

  it('backfills the newest videos on subscribe, from the feed, and records the sync', async () => {
    const jobId = await sync('subscribed', 2)
    expect(discovered()).toEqual([channel.videoIds.bicycle, channel.videoIds.sourdough])
    expect(fn.sink.events.find((event) => event.name === 'video.discovered')?.data).toMatchObject({
      url: site.url('/watch-bicycle.html'),
      speechToTextAllowed: false,
    })
    const job = await fn.stores.documents.getJob(jobId)
    expect(job).toMatchObject({ status: 'running', videos: { total: 2 } })
    const synced = await fn.stores.documents.getChannel(CHANNEL_ID)
    expect(synced).toMatchObject({ lastOutcome: 'ok', videosFoundLastSync: 2, consecutiveFailures: 0 })
    expect(Date.parse(synced!.nextSyncAt)).toBeGreaterThan(Date.now() + 3000_000)
    expect(await fn.stores.documents.getVideo(channel.videoIds.bicycle!)).toMatchObject({
      channelId: CHANNEL_ID,
      publishedAt: day(3).toISOString(),
    })
  })

  it('finds the one new upload on the next sync, and does no work when nothing is new', async () => {
    await sync('subscribed', 3)
    fn.sink.events.length = 0
    const before = site.requests.length
    const quiet = await sync('scheduled')
    expect(discovered()).toEqual([])
    // One request: the feed. No yt-dlp, no page.
    expect(site.requests.slice(before)).toEqual([`/feeds/videos.xml?channel_id=${CHANNEL_ID}`])
    expect((await fn.stores.documents.getJob(quiet))?.status).toBe('succeeded')

    channel.publish({ name: 'extra', title: 'Something new', published: new Date() })
    await sync('scheduled')
    expect(discovered()).toEqual([channel.videoIds.extra])
    expect(await fn.stores.documents.getChannel(CHANNEL_ID)).toMatchObject({
      lastOutcome: 'ok',
      videosFoundLastSync: 1,
    })
  })

  it('tries a live stream it skipped again on a later sync, once it may be over, and not before', async () => {
    await sync('subscribed', 3)
    const skip = (name: string, liveStatus: 'is_live' | 'is_upcoming', publishedAt?: string) =>
      fn.stores.documents.updateVideo(channel.videoIds[name]!, 'download', 'skipped', {
        stages: { transcribe: 'skipped', index: 'skipped' },
        liveStatus,
        skipReason: `${liveStatus} at the last read`,
        ...(publishedAt ? { publishedAt } : {}),
      })
    await skip('bicycle', 'is_live')
    await skip('sourdough', 'is_upcoming', new Date(Date.now() + 86_400_000).toISOString())
    await skip('indexing', 'is_upcoming', new Date(Date.now() - 60_000).toISOString())
    fn.sink.events.length = 0

    const jobId = await sync('scheduled')
    // The one on air and the one whose scheduled start has come; the one scheduled for tomorrow waits.
    expect(discovered().sort()).toEqual([channel.videoIds.bicycle, channel.videoIds.indexing].sort())
    for (const event of fn.sink.events)
      expect(event.data).toMatchObject({ jobId, generation: 1, speechToTextAllowed: false })
    expect(await fn.stores.documents.getVideo(channel.videoIds.bicycle!)).toMatchObject({
      status: 'queued',
      generation: 1,
    })
    expect(await fn.stores.documents.getVideo(channel.videoIds.sourdough!)).toMatchObject({
      status: 'skipped',
      generation: 0,
    })
    expect(await fn.stores.documents.getJob(jobId)).toMatchObject({ videos: { total: 2 } })
    // Found again, not found new.
    expect(await fn.stores.documents.getChannel(CHANNEL_ID)).toMatchObject({ videosFoundLastSync: 0 })

    // A sync that reset a stream and stopped before sending it on (a crash): the next one sends it.
    await fn.stores.documents.resetVideo(channel.videoIds.sourdough!)
    fn.sink.events.length = 0
    await sync('scheduled')
    expect(discovered()).toEqual([channel.videoIds.sourdough])
    expect(fn.sink.events[0]?.data).toMatchObject({ generation: 1 })
  })

  it('tells which skipped videos are due to be read again', () => {
    const now = new Date('2030-01-01T12:00:00.000Z')
    expect(skippedStreamDue({ status: 'skipped', liveStatus: 'is_live' }, now)).toBe(true)
    expect(skippedStreamDue({ status: 'skipped', liveStatus: 'post_live' }, now)).toBe(true)
    expect(skippedStreamDue({ status: 'skipped', liveStatus: 'is_upcoming' }, now)).toBe(true)
    expect(
      skippedStreamDue({ status: 'skipped', liveStatus: 'is_upcoming', publishedAt: '2030-01-01T11:00:00.000Z' }, now),
    ).toBe(true)
    expect(
      skippedStreamDue({ status: 'skipped', liveStatus: 'is_upcoming', publishedAt: '2030-01-01T13:00:00.000Z' }, now),
    ).toBe(false)
    expect(skippedStreamDue({ status: 'skipped' }, now)).toBe(false)
    expect(skippedStreamDue({ status: 'indexed', liveStatus: 'was_live' }, now)).toBe(false)
    expect(skippedStreamDue({ status: 'failed', liveStatus: 'is_live' }, now)).toBe(false)
  })

  it('records the sync on the channel before its job ends, the removed-video check included', async () => {
    await sync('subscribed', 3)
    const before = (await fn.stores.documents.getChannel(CHANNEL_ID))!
    expect(before).toMatchObject({ lastOutcome: 'ok', videosFoundLastSync: 3 })
    // The feed drops a known video: the sync reads its page (yt-dlp, after the host spacing).
    channel.makePrivate('sourdough')
    const started = new Date().toISOString()
    const { status, channel: seen } = await syncWatched('scheduled')
    expect(status).toBe('succeeded')
    expect(seen).toMatchObject({ lastOutcome: 'ok', videosFoundLastSync: 0 })
    expect(seen.lastSyncAt! >= started).toBe(true)
    expect((await fn.stores.documents.getVideo(channel.videoIds.sourdough!))?.availability).toBe('private')

    // A failed sync's job, too, fails only once the failure is on the channel.
    channel.failFeed(429, { 'Retry-After': '120' })
    const limited = await syncWatched('manual')
    expect(limited.status).toBe('failed')
    expect(limited.channel).toMatchObject({ lastOutcome: 'rate-limited' })
  })

  it('lists the channel page with yt-dlp when the feed fails', async () => {
    await sync('subscribed', 3)
    fn.sink.events.length = 0
    channel.publish({ name: 'extra', title: 'Something new', published: new Date() })
    channel.failFeed(500)
    await sync('manual')
    expect(discovered()).toEqual([channel.videoIds.extra])
    expect(fn.sink.events[0]?.data).toMatchObject({ url: channel.url, playlistItem: 4 })
    expect(site.requests.some((request) => request === '/uploads.html')).toBe(true)
  })

  it('backs the host off for every channel on a 429, and the job says so', async () => {
    await sync('subscribed', 1)
    channel.failFeed(429, { 'Retry-After': '120' })
    const jobId = await sync('scheduled')
    const job = await fn.stores.documents.getJob(jobId)
    expect(job?.status).toBe('failed')
    expect(job?.errors[0]?.message).toMatch(new RegExp(`^${site.host.replace('.', '\\.')} is backed off until .*429`))
    const limited = await fn.stores.documents.getChannel(CHANNEL_ID)
    expect(limited).toMatchObject({ lastOutcome: 'rate-limited', consecutiveFailures: 0 })
    expect(Date.parse(limited!.nextSyncAt)).toBeGreaterThan(Date.now() + 110_000)
    // Another channel on the same host is not even tried while the backoff lasts.
    await subscribe('UCfixtureChannel00000002', site.url('/other.html'))
    const requests = site.requests.length
    const other = await sync('scheduled', undefined, 'UCfixtureChannel00000002')
    expect(site.requests.length).toBe(requests)
    expect((await fn.stores.documents.getJob(other))?.errors[0]?.message).toMatch(/backed off/)
  })

  it('counts failures in a row and waits longer after each', async () => {
    await fn.stores.documents.upsertChannel({
      channelId: 'UCgone',
      url: site.url('/gone.html'),
      listUrl: site.url('/gone.html'),
      defaults: CHANNEL_DEFAULTS,
      nextSyncAt: new Date().toISOString(),
    })
    const waits: number[] = []
    for (let i = 0; i < 3; i++) {
      await sync('scheduled', undefined, 'UCgone')
      const state = (await fn.stores.documents.getChannel('UCgone'))!
      waits.push(Date.parse(state.nextSyncAt) - Date.parse(state.lastSyncAt!))
    }
    const state = (await fn.stores.documents.getChannel('UCgone'))!
    expect(state).toMatchObject({ lastOutcome: 'failed', consecutiveFailures: 3 })
    expect(state.lastError).toMatch(/gone\.html|404/)
    // Doubling, give or take the jitter.
    expect(waits[1]! / waits[0]!).toBeGreaterThan(1.5)
    expect(waits[2]! / waits[1]!).toBeGreaterThan(1.5)
  })

  it('marks a video that went private, without deleting it', async () => {
    await sync('subscribed', 3)
    channel.makePrivate('sourdough')
    await sync('scheduled')
    const video = await fn.stores.documents.getVideo(channel.videoIds.sourdough!)
    expect(video?.availability).toBe('private')
    expect((await fn.stores.documents.getVideo(channel.videoIds.bicycle!))?.availability).toBeUndefined()
  })

  it('starts each due channel once when two ticks come at the same moment, and nothing when none is due', async () => {
    await fn.stores.documents.upsertChannel({
      channelId: 'UCdue1',
      url: channel.url,
      listUrl: channel.url,
      intervalSeconds: 600,
      defaults: CHANNEL_DEFAULTS,
      nextSyncAt: new Date(Date.now() - 1000).toISOString(),
    })
    await fn.stores.documents.upsertChannel({
      channelId: 'UCdue2',
      url: channel.url,
      listUrl: channel.url,
      intervalSeconds: 600,
      defaults: CHANNEL_DEFAULTS,
      nextSyncAt: new Date(Date.now() - 2000).toISOString(),
    })
    const answers = await Promise.all([ping(), ping(), ping()])
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202])
    const started = fn.sink.events
      .filter((event) => event.name === 'channel.resync.requested')
      .map((event) => event.subject)
    expect(started.sort()).toEqual(['UCdue1', 'UCdue2'])
    expect(fn.sink.events.every((event) => (event.data as { reason?: string }).reason === 'scheduled')).toBe(true)
    fn.sink.events.length = 0
    expect((await ping()).status).toBe(202)
    expect(fn.sink.events).toEqual([])
  })

  it('never discovers a video twice when syncs of one channel run at the same moment', async () => {
    await Promise.all([sync('subscribed', 3), sync('manual'), sync('scheduled')])
    const all = discovered()
    expect(all.sort()).toEqual(Object.values(channel.videoIds).sort())
    expect(new Set(all).size).toBe(all.length)
  })

  it('tells a private video from a removed one by what reading its page said', () => {
    expect(
      availabilityFromError(
        new VideoUnavailableError('yt-dlp could not read x: ERROR: [youtube] abc: Private video. Sign in if you…', {
          url: 'x',
        }),
      ),
    ).toBe('private')
    expect(
      availabilityFromError(
        new ExtractionError('yt-dlp could not read x: ERROR: HTTP Error 403: Forbidden', { url: 'x' }),
      ),
    ).toBe('private')
    expect(
      availabilityFromError(
        new VideoUnavailableError('yt-dlp could not read x: ERROR: HTTP Error 404: Not Found', { url: 'x' }),
      ),
    ).toBe('removed')
    expect(
      availabilityFromError(new ExtractionError('yt-dlp could not read x: timed out', { url: 'x' })),
    ).toBeUndefined()
    // YouTube's bot check says "Sign in" too, but about this server: the video is neither.
    const botCheck = classifyFailure('ERROR: [youtube] abc: Sign in to confirm you’re not a bot.', { url: 'x' })
    expect(botCheck).toBeInstanceOf(BlockedByYouTubeError)
    expect(availabilityFromError(botCheck)).toBeUndefined()
  })
})
