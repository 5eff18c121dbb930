// Channel subscriptions end to end, as a user runs them: `npm start` running the PingSource's
// schedule in process (every second here), `ytrag channels add` from the terminal, and the next
// tick picking up a video the fixture channel uploads afterwards.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  fixtureChannel,
  loadCaptionFixture,
  startFixtureServer,
  type FixtureChannel,
  type FixtureServer,
} from '@ytrag/youtube/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { root, startServerProcess, type ServerProcess } from './server-process.ts'

const CHANNEL_ID = 'UCfixtureChannel00000001'

describe('npm start: a channel subscription and the scheduled re-sync', () => {
  let dir: string
  let site: FixtureServer
  let channel: FixtureChannel
  let server: ServerProcess

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ytrag-e2e-channels-'))
    site = await startFixtureServer({
      videos: [
        {
          name: 'indexing',
          title: 'Database indexing explained',
          captions: [{ lang: 'en', vtt: loadCaptionFixture('database-indexing') }],
        },
        {
          name: 'sourdough',
          title: 'Sourdough from scratch',
          captions: [{ lang: 'en', vtt: loadCaptionFixture('sourdough') }],
        },
        {
          name: 'bicycle',
          title: 'A short history of the bicycle',
          captions: [{ lang: 'en', vtt: loadCaptionFixture('bicycle-history') }],
        },
      ],
    })
    channel = fixtureChannel(site, {
      channelId: CHANNEL_ID,
      title: 'Fixture talks',
      videos: [
        { name: 'indexing', title: 'Database indexing explained', published: new Date(Date.now() - 2 * 86_400_000) },
        { name: 'sourdough', title: 'Sourdough from scratch', published: new Date(Date.now() - 86_400_000) },
      ],
    })
    server = await startServerProcess({
      YOUTUBE_RAG__STORAGE__DIR: dir,
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: site.host,
      YOUTUBE_RAG__CHANNELS__FEED_BASE_URL: site.origin,
      YOUTUBE_RAG__CHANNELS__JITTER_RATIO: '0',
      YOUTUBE_RAG__CHANNELS__HOST_SPACING_MS: '100',
      YOUTUBE_RAG__BROKER__PING_SCHEDULE: '* * * * * *',
      YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.05',
      YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '10000',
      YOUTUBE_RAG__LOG__LEVEL: 'info',
    })
  }, 90_000)
  afterAll(async () => {
    await server?.stop()
    await site?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const ytrag = (...args: string[]) =>
    promisify(execFile)(
      process.execPath,
      [join(root, 'scripts/bootstrap.mjs'), 'cli', ...args, '--server', server.base],
      { cwd: root, env: { ...process.env, YOUTUBE_RAG_SKIP_INSTALL: '1' } },
    )
  const channelVideos = async () =>
    (
      await server.call<{ items: { videoId: string; status: string }[] }>(
        'GET',
        `/v1/videos?channelId=${CHANNEL_ID}&limit=50`,
      )
    ).body.items

  it('subscribes from the terminal and backfills the newest videos', async () => {
    const added = await ytrag('channels', 'add', channel.url, '--backfill', '2', '--interval', '5', '--wait')
    expect(added.stdout).toMatch(
      new RegExp(`^subscribed to Fixture talks \\(${CHANNEL_ID}\\); backfill job [0-9a-f-]{36}`),
    )
    expect(added.stderr).toMatch(/2\/2 videos \(2 indexed, 0 failed\) succeeded/)
    expect((await channelVideos()).map((video) => video.status)).toEqual(['indexed', 'indexed'])
    const listed = await ytrag('channels', 'list')
    expect(listed.stdout).toContain(`${CHANNEL_ID}  Fixture talks`)
    // The backfill's own sync found both; with a 5 s interval a scheduled sync (finding nothing
    // new) may already have followed it on a busy machine, so the list shows the latest one.
    expect(listed.stdout).toMatch(/last sync .* ok \((2|0) new\)/)
    expect(server.output()).toMatch(/"found":2,.*"msg":"channel synced"/)
  })

  it('picks up a new upload on the next tick of the schedule, and indexes it', async () => {
    const logStart = server.output().length
    channel.publish({ name: 'bicycle', title: 'A short history of the bicycle', published: new Date() })
    const published = Date.now()
    const deadline = published + 60_000
    let videos = await channelVideos()
    while (!(videos.length === 3 && videos.every((video) => video.status === 'indexed'))) {
      if (Date.now() > deadline)
        throw new Error(`the new upload was not picked up: ${JSON.stringify(videos)}\n${server.output().slice(-3000)}`)
      await new Promise((done) => setTimeout(done, 250))
      videos = await channelVideos()
    }
    const log = server
      .output()
      .slice(logStart)
      .split('\n')
      .filter((line) => /scheduled syncs started|channel synced/.test(line))
    console.log(
      `new upload indexed ${((Date.now() - published) / 1000).toFixed(1)} s after it was published; the server's log:\n${log.join('\n')}`,
    )
    expect(log.some((line) => line.includes('"found":1'))).toBe(true)
    expect(videos.map((video) => video.videoId)).toContain(channel.videoIds.bicycle)
    const { body } = await server.call<{ hits: { videoId: string }[] }>('POST', '/v1/search', {
      query: 'penny-farthing',
    })
    expect(body.hits[0]?.videoId).toBe(channel.videoIds.bicycle)
  })

  it('unsubscribes and keeps the videos', async () => {
    const removed = await ytrag('channels', 'remove', CHANNEL_ID)
    expect(removed.stdout).toContain('"deleted": true')
    expect(await channelVideos()).toHaveLength(3)
    expect((await ytrag('channels', 'list')).stdout).toContain('no subscriptions')
  })
})
