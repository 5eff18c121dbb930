// Issue 11, outbound: a hostile site on an allowed loopback port (127.0.0.1:A) tries every way
// it can to make the server fetch from a canary listener on a port that is not allowed
// (127.0.0.1:B). The real pipeline runs: discover and download over HTTP with the real yt-dlp
// (whose every request goes through the egress proxy), the api's POST /v1/channels (guardedFetch).
// The canary counts TCP connections, not just requests, so even a refused-later tunnel would show.
// Run: vitest run test/security   (prints "attempts N, requests that reached the canary 0")
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { lookup } from 'node:dns/promises'
import { hostname, tmpdir } from 'node:os'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api } from '../../functions/api/src/index.ts'
import { discover } from '../../functions/discover/src/index.ts'
import { download } from '../../functions/download/src/index.ts'
import { startFixtureServer, type FixtureServer } from '../../shared/youtube/src/fixtures/index.ts'
import {
  EgressRefusedError,
  egressProxyFor,
  guardedFetch,
  GuardedFetchError,
  listVideos,
  resolveChannel,
  startEgressProxy,
} from '../../shared/youtube/src/index.ts'
import { runYtDlp } from '../../shared/youtube/src/ytdlp/run.ts'

const CHANNEL_ID = 'UCcanaryChannel000000001'

type Canary = {
  url(path: string): string
  host: string
  connections: number
  requests: string[]
  close(): Promise<void>
}

/** A listener that records everything that reaches it, and answers like a site worth fetching. */
async function startCanary(): Promise<Canary> {
  const requests: string[] = []
  let connections = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`)
    // Something that would be indexed if it got through: captions, a channel page, a feed.
    const body = request.url?.endsWith('.vtt')
      ? 'WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nSECRET FROM THE CANARY\n'
      : `<html><head><title>Canary</title><meta itemprop="channelId" content="${CHANNEL_ID}"></head><body>SECRET</body></html>`
    response.writeHead(200, { 'Content-Type': 'text/html' }).end(body)
  })
  server.on('connection', (socket: Socket) => {
    connections += 1
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    host: `127.0.0.1:${port}`,
    get connections() {
      return connections
    },
    requests,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

let canary: Canary
let site: FixtureServer
let openai: OpenAiTestServer
let attempts = 0
/** Counts one attempt and checks, right after it, that nothing reached the canary. */
const attempted = () => {
  attempts += 1
  expect(canary.connections, `canary saw: ${canary.requests.join(', ')}`).toBe(0)
  expect(canary.requests).toEqual([])
}

const page = (body: string, head = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Hostile</title>${head}</head><body>${body}</body></html>`

beforeAll(async () => {
  canary = await startCanary()
  site = await startFixtureServer()
  openai = await startOpenAiTestServer()
  const to = (path: string) => canary.url(path)
  for (const status of [301, 302, 303, 307, 308]) {
    site.setRoute(`/redirect-${status}.html`, { status, body: '', headers: { Location: to(`/after-${status}.html`) } })
    site.setRoute(`/channel-${status}`, { status, body: '', headers: { Location: to(`/channel-${status}`) } })
  }
  // yt-dlp's --proxy covers http(s) only; urllib would follow a redirect to ftp:// by itself.
  site.setRoute('/redirect-ftp.html', {
    status: 302,
    body: '',
    headers: { Location: `ftp://${canary.host}/after.mp4` },
  })
  site.setPage({
    path: '/track-ftp.html',
    body: page(
      `<video src="/media/silent.mp4"><track kind="subtitles" src="ftp://${canary.host}/evil.en.vtt" srclang="en" label="English"></video>`,
    ),
  })
  site.setPage({ path: '/video-ftp.html', body: page(`<video src="ftp://${canary.host}/evil.mp4"></video>`) })
  site.setPage({
    path: '/meta-refresh.html',
    body: page('moved', `<meta http-equiv="refresh" content="0; url=${to('/refreshed.html')}">`),
  })
  site.setPage({
    path: '/track.html',
    body: page(
      `<video src="/media/silent.mp4"><track kind="subtitles" src="${to('/evil.en.vtt')}" srclang="en" label="English"></video>`,
    ),
  })
  site.setPage({ path: '/video-src.html', body: page(`<video src="${to('/evil.mp4')}"></video>`) })
  site.setPage({
    path: '/source-src.html',
    body: page(`<video><source src="${to('/evil-source.mp4')}" type="video/mp4"></video>`),
  })
  site.setPage({
    path: '/thumbnail.html',
    body: page(
      `<video src="/media/indexing.mp4" poster="${to('/poster.jpg')}"><track kind="subtitles" src="/captions/indexing.en.vtt" srclang="en" label="English"></video>`,
      `<meta property="og:image" content="${to('/og.jpg')}">`,
    ),
  })
  // The feed of a subscribed channel moves to the canary, and so does its page (the fallback listing).
  site.setRoute(`/feeds/videos.xml?channel_id=${CHANNEL_ID}`, {
    status: 302,
    body: '',
    headers: { Location: to('/feed.xml') },
  })
  site.setRoute('/uploads', { status: 302, body: '', headers: { Location: to('/uploads.html') } })
}, 60_000)

afterAll(async () => {
  // The figure the issue asks for, in the test's output.
  console.log(`attempts ${attempts}, requests that reached the canary ${canary.requests.length + canary.connections}`)
  await Promise.all([canary?.close(), site?.close(), openai?.close()])
})

describe('discover (ingest.requested, real yt-dlp through the egress proxy)', () => {
  let fn: FunctionUnderTest
  beforeAll(async () => {
    fn = await startFunctionUnderTest(discover, { YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: site.host })
  })
  afterAll(() => fn.close())

  const ingest = async (path: string) => {
    const jobId = randomUUID()
    const url = site.url(path)
    await fn.stores.documents.createJob({ jobId, url })
    expect((await fn.deliver('ingest.requested', jobId, { jobId, url, force: false })).status).toBe(202)
    return fn.stores.documents.getJob(jobId)
  }

  it.each([301, 302, 303, 307, 308])(
    'a %i redirect to the canary fails the job with the guard’s reason',
    async (status) => {
      const job = await ingest(`/redirect-${status}.html`)
      attempted()
      expect(job?.status).toBe('failed')
      expect(job?.errors[0]?.message).toMatch(
        new RegExp(`refused by the egress guard: host ${canary.host.replace(/\./g, '\\.')} is not in`),
      )
      expect(fn.sink.events).toEqual([])
    },
  )

  it('a redirect to ftp:// on the canary (which --proxy would not cover) is refused at the proxy', async () => {
    const job = await ingest('/redirect-ftp.html')
    attempted()
    expect(job?.status).toBe('failed')
    expect(job?.errors[0]?.message).toMatch(
      /refused by the egress guard: a redirect from 127\.0\.0\.1:\d+ to "ftp:\/\/127\.0\.0\.1:\d+\/after\.mp4", which is not http\(s\)/,
    )
  })

  it('counts the refusals at /metrics (ytrag_egress_refused_total)', async () => {
    const metrics = await (await fetch(new URL('/metrics', fn.url))).text()
    const refused = Number(/^ytrag_egress_refused_total\{[^}]*\} (\d+)$/m.exec(metrics)?.[1])
    expect(refused).toBeGreaterThanOrEqual(6)
  })

  it('a <meta http-equiv=refresh> to the canary fails the job the same way (not "succeeded with 0 videos")', async () => {
    const job = await ingest('/meta-refresh.html')
    attempted()
    expect(job?.status).toBe('failed')
    expect(job?.errors[0]?.message).toMatch(/refused by the egress guard/)
  })
})

describe('download (video.discovered, real yt-dlp through the egress proxy)', () => {
  let fn: FunctionUnderTest
  beforeAll(async () => {
    // A speech-to-text provider, so a video without captions goes on to download its media.
    fn = await startFunctionUnderTest(download, {
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: site.host,
      YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
    })
  })
  afterAll(() => fn.close())

  const downloadOf = async (path: string) => {
    const jobId = randomUUID()
    const videoId = `${path.replace(/\W/g, '')}-${jobId.slice(0, 8)}`
    const url = site.url(path)
    await fn.stores.documents.createJob({ jobId, url })
    await fn.stores.documents.insertVideo({ videoId, url })
    await fn.stores.documents.addJobVideos(jobId, [videoId])
    await fn.stores.documents.markJobDiscovered(jobId)
    expect(
      (await fn.deliver('video.discovered', videoId, { jobId, videoId, url, force: false, speechToTextAllowed: true }))
        .status,
    ).toBe(202)
    return fn.stores.documents.getVideo(videoId)
  }

  it.each([
    ['<track src>', '/track.html'],
    ['<video src>', '/video-src.html'],
    ['<source src>', '/source-src.html'],
  ])(
    'a %s on the canary fails the video with the guard’s reason, and nothing of the canary is stored',
    async (_vector, path) => {
      const video = await downloadOf(path)
      attempted()
      expect(video?.status).toBe('failed')
      expect(video?.error).toMatch(
        new RegExp(`refused by the egress guard: host ${canary.host.replace(/\./g, '\\.')} is not in`),
      )
      expect(video?.transcript).toBeUndefined()
    },
  )

  it('an ftp:// caption track on the canary is not fetched: FTP is off in yt-dlp’s Python, or goes to the proxy, which refuses it', async () => {
    const video = await downloadOf('/track-ftp.html')
    attempted()
    expect(video?.status).toBe('failed')
    // yt-dlp before 2025 proxies http(s) only, so its own FTP handler (switched off by our hook)
    // meets the URL; newer ones send every scheme to --proxy, and the guard refuses the scheme.
    expect(video?.error).toMatch(
      /refused by the egress guard: (?:ftp:\/\/ is not fetched \(ftp:\/\/127\.0\.0\.1:\d+\/evil\.en\.vtt\)|scheme ftp: is not proxied)/,
    )
  })

  it('an ftp:// media file on the canary is not fetched: only formats fetched through the proxy are asked for', async () => {
    const video = await downloadOf('/video-ftp.html')
    attempted()
    expect(video?.status).toBe('failed')
    expect(video?.error).toMatch(/Requested format is not available/)
  })

  it('a thumbnail (poster, og:image) on the canary is never fetched; the video is indexed from its own captions', async () => {
    const video = await downloadOf('/thumbnail.html')
    attempted()
    expect(video?.transcript).toMatchObject({ source: 'captions', language: 'en' })
  })

  it('and yt-dlp asked to write that thumbnail is refused by the proxy', async () => {
    const egress = { allowedHosts: [site.host] }
    const proxy = await egressProxyFor(egress) // the one runYtDlp uses for this allow-list
    const refusedBefore = proxy.stats.refused
    const dir = mkdtempSync(join(tmpdir(), 'ytrag-thumbnail-'))
    try {
      // yt-dlp treats a thumbnail it can't fetch as a warning and goes on; what matters is that
      // the request was put to the proxy and refused, not sent.
      await runYtDlp(
        site.url('/thumbnail.html'),
        { writeThumbnail: true, skipDownload: true, output: join(dir, '%(id)s.%(ext)s') },
        { egress },
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    attempted()
    expect(proxy.stats.refused).toBeGreaterThan(refusedBefore)
  })
})

describe('the api (POST /v1/channels through guardedFetch)', () => {
  let fn: FunctionUnderTest
  let hanging: Server
  let hangingHost: string
  beforeAll(async () => {
    // Accepts and never answers: a channel page that hangs.
    hanging = createServer(() => undefined)
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
    hangingHost = `127.0.0.1:${(hanging.address() as AddressInfo).port}`
    fn = await startFunctionUnderTest(api, {
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: `${site.host},${hangingHost}`,
      YOUTUBE_RAG__INGEST__FETCH_TIMEOUT_SECONDS: '1',
    })
  })
  afterAll(async () => {
    await fn.close()
    hanging.closeAllConnections()
    await new Promise<void>((resolve) => hanging.close(() => resolve()))
  })
  const subscribe = (url: string) =>
    fetch(new URL('/v1/channels', fn.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url }),
    })

  it.each([301, 302, 303, 307, 308])(
    'a channel page that answers %i to the canary is refused (400 host_not_allowed), not followed',
    async (status) => {
      const answer = await subscribe(site.url(`/channel-${status}`))
      attempted()
      expect(answer.status).toBe(400)
      const body = (await answer.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('host_not_allowed')
      expect(body.error.message).toMatch(/reached by a redirect from/)
      expect((await (await fetch(new URL('/v1/channels', fn.url))).json()) as object).toEqual({ items: [] })
    },
  )

  it('a channel page that hangs answers 504 upstream_timeout after the fetch timeout', async () => {
    const started = Date.now()
    const answer = await subscribe(`http://${hangingHost}/@hangs`)
    expect(answer.status).toBe(504)
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout')
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('a 300 KB page of "<meta " resolves in milliseconds, and /health/live answers meanwhile', async () => {
    site.setPage({ path: '/meta-bomb.html', body: '<meta '.repeat(50_000) })
    const started = performance.now()
    const [answer, live] = await Promise.all([
      subscribe(site.url('/meta-bomb.html')),
      fetch(new URL('/health/live', fn.url)),
    ])
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(answer.status).toBe(400)
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('not_a_channel')
    expect(live.status).toBe(200)
  })
})

describe('discover (a channel sync whose feed and page redirect to the canary)', () => {
  let fn: FunctionUnderTest
  beforeAll(async () => {
    fn = await startFunctionUnderTest(discover, {
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: site.host,
      YOUTUBE_RAG__CHANNELS__FEED_BASE_URL: site.origin,
      YOUTUBE_RAG__CHANNELS__HOST_SPACING_MS: '0',
    })
  })
  afterAll(() => fn.close())

  it('the feed redirect is not followed, nor is the listing fallback’s; the sync fails with the reason', async () => {
    const url = site.url('/uploads')
    await fn.stores.documents.upsertChannel({
      channelId: CHANNEL_ID,
      url,
      listUrl: url,
      defaults: { languages: [], speechToText: false, backfill: 3, intervalSeconds: 3600 },
      nextSyncAt: new Date(Date.now() + 3_600_000).toISOString(),
    })
    const jobId = randomUUID()
    await fn.stores.documents.createJob({ jobId, url })
    const answer = await fn.deliver('channel.resync.requested', CHANNEL_ID, {
      jobId,
      channelId: CHANNEL_ID,
      url,
      reason: 'subscribed',
      backfill: 3,
    })
    expect(answer.status).toBe(202)
    attempted() // the feed
    attempted() // the page yt-dlp lists instead
    const job = await fn.stores.documents.getJob(jobId)
    expect(job?.status).toBe('failed')
    expect(job?.errors[0]?.message).toMatch(/refused by the egress guard/)
    expect((await fn.stores.documents.getChannel(CHANNEL_ID))?.consecutiveFailures).toBe(1)
    expect(fn.sink.events.filter((event) => event.name === 'video.discovered')).toEqual([])
  })
})

describe('names that resolve to loopback', () => {
  // The resolver is injected (a public DNS name for loopback can't be had offline); the proxy and
  // guardedFetch resolve through it, check every address, and never connect.
  const toLoopback = async () => ['127.0.0.1']
  const toMapped = async () => ['::ffff:127.0.0.1']

  it('yt-dlp through the proxy: an allowed name resolving to 127.0.0.1 or ::ffff:127.0.0.1 is refused', async () => {
    for (const [name, resolve] of [
      ['loopback.canary.test', toLoopback],
      ['mapped.canary.test', toMapped],
    ] as const) {
      const port = canary.host.split(':')[1]
      const error = await listVideos(`http://${name}:${port}/page.html`, {
        egress: { allowedHosts: [name], resolve },
      }).catch((caught: unknown) => caught)
      attempted()
      expect(error).toBeInstanceOf(EgressRefusedError)
      expect((error as Error).message).toMatch(/resolves to (127\.0\.0\.1|::ffff:127\.0\.0\.1), a loopback address/)
    }
  })

  it('guardedFetch and resolveChannel: the same name is refused before any connection', async () => {
    const port = canary.host.split(':')[1]
    const error = await guardedFetch(`http://loopback.canary.test:${port}/`, {
      allowedHosts: ['loopback.canary.test'],
      resolve: toLoopback,
    }).catch((caught: unknown) => caught)
    attempted()
    expect(error).toBeInstanceOf(GuardedFetchError)
    expect(error).toMatchObject({ code: 'private_address' })
    await expect(
      resolveChannel(`http://loopback.canary.test:${port}/@c`, {
        allowedHosts: ['loopback.canary.test'],
        resolve: toLoopback,
      }),
    ).rejects.toMatchObject({
      fetchCode: 'private_address',
    })
    attempted()
  })

  it('the proxy on its own: CONNECT and GET to such a name get a 403 with the reason, from the real resolver too', async () => {
    const port = Number(canary.host.split(':')[1])
    // This machine's own name resolves to loopback through /etc/hosts: a real lookup, not injected.
    const own = hostname()
    const ownIsLoopback = await lookup(own, { all: true })
      .then((found) => found.every((entry) => entry.address.startsWith('127.') || entry.address === '::1'))
      .catch(() => false)
    const names = ownIsLoopback ? [own] : []
    const proxy = await startEgressProxy({ allowedHosts: ['loopback.canary.test', ...names] })
    const injected = await startEgressProxy({ allowedHosts: ['loopback.canary.test'], resolve: toLoopback })
    try {
      for (const [through, name] of [
        [injected, 'loopback.canary.test'],
        ...names.map((name) => [proxy, name] as const),
      ] as const) {
        const { port: proxyPort } = new URL(through.url)
        const answer = await new Promise<string>((resolve, reject) => {
          const socket = connect(Number(proxyPort), '127.0.0.1', () =>
            socket.write(`CONNECT ${name}:${port} HTTP/1.1\r\nHost: ${name}:${port}\r\n\r\n`),
          )
          let text = ''
          socket.on('data', (chunk: Buffer) => (text += chunk.toString()))
          socket.on('end', () => resolve(text))
          socket.on('error', reject)
        })
        attempted()
        expect(answer).toMatch(
          /^HTTP\/1\.1 403 refused by the egress guard: host .* resolves to .*, a loopback address/,
        )
        expect(through.stats.refused).toBeGreaterThan(0)
      }
    } finally {
      await proxy.close()
      await injected.close()
    }
  })
})
