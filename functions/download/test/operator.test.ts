// download with a recorded yt-dlp at TOOLS__YTDLP_PATH: the operator's YOUTUBE_RAG__YTDLP__*
// settings reach its arguments from the environment, YouTube's bot check fails the video with
// the settings that answer it (and backs the host off), and readiness says what yt-dlp is there.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { recordedYtDlp, startRecordingProxy, type RecordedYtDlp, type RecordingProxy } from '@ytrag/youtube/fixtures'
import { probeYtDlp } from '@ytrag/youtube'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { download, NO_CAPTIONS_REASON } from '../src/index.ts'

let dir: string
let site: Server
let siteHost: string
let upstream: RecordingProxy
let fn: FunctionUnderTest | undefined

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ytrag-download-operator-'))
  site = createServer((request, response) => response.end(`page ${request.url}`))
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
  siteHost = `127.0.0.1:${(site.address() as AddressInfo).port}`
  upstream = await startRecordingProxy({ user: 'operator', password: 'pa:ss@word' })
})
afterEach(async () => {
  await fn?.close()
  fn = undefined
})
afterAll(async () => {
  await upstream.close()
  site.closeAllConnections()
  await new Promise<void>((resolve) => site.close(() => resolve()))
  await rm(dir, { recursive: true, force: true })
})

const watch = (id: string) => `https://www.youtube.com/watch?v=${id}`
const INFO = (id: string) => ({ _type: 'video', id, title: `Video ${id}`, webpage_url: watch(id), duration: 61 })
const BOT_CHECK =
  'ERROR: [youtube] bbbbbbbbbbb: Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication.\n'
const ADVICE = [
  'YOUTUBE_RAG__YTDLP__COOKIES_FILE',
  'YOUTUBE_RAG__YTDLP__PROXY',
  'YOUTUBE_RAG__YTDLP__EXTRACTOR_ARGS',
  'YOUTUBE_RAG__YTDLP__SLEEP_REQUESTS_SECONDS',
]

/** A queued video of a job, as discover leaves it; gives the event's data. */
async function discovered(under: FunctionUnderTest, videoId: string) {
  await under.stores.documents.createJob({ jobId: `job-${videoId}`, url: watch(videoId) })
  await under.stores.documents.insertVideo({ videoId, url: watch(videoId) })
  await under.stores.documents.addJobVideos(`job-${videoId}`, [videoId])
  await under.stores.documents.markJobDiscovered(`job-${videoId}`)
  return { jobId: `job-${videoId}`, videoId, url: watch(videoId), force: false }
}

const valuesOf = (argv: string[], flag: string) => argv.flatMap((arg, i) => (arg === flag ? [argv[i + 1]!] : []))

describe('download with the operator settings, from the environment', () => {
  it('passes every YOUTUBE_RAG__YTDLP__ setting to yt-dlp, the proxy from a _FILE, through the guard to that proxy', async () => {
    const ytdlp = await recordedYtDlp(join(dir, 'settings'), {
      version: '2025.11.12',
      reply: { stdout: INFO('aaaaaaaaaaa'), fetch: [`https://${siteHost}/youtubei/v1/player`] },
    })
    const cookies = join(dir, 'cookies.txt')
    await writeFile(cookies, '# Netscape HTTP Cookie File\n')
    const proxyFile = join(dir, 'proxy-url')
    await writeFile(proxyFile, `${upstream.url}\n`)
    fn = await startFunctionUnderTest(download, {
      YOUTUBE_RAG__TOOLS__YTDLP_PATH: ytdlp.path,
      YOUTUBE_RAG__INGEST__FETCH_HOSTS: siteHost,
      YOUTUBE_RAG__YTDLP__COOKIES_FILE: cookies,
      YOUTUBE_RAG__YTDLP__PROXY_FILE: proxyFile,
      YOUTUBE_RAG__YTDLP__EXTRACTOR_ARGS:
        'youtube:player_client=default,mweb;po_token=mweb.gvs+TOKEN|youtubetab:skip=webpage',
      YOUTUBE_RAG__YTDLP__SLEEP_REQUESTS_SECONDS: '2',
      YOUTUBE_RAG__YTDLP__REMOTE_COMPONENTS: 'ejs:npm',
    })
    const data = await discovered(fn, 'aaaaaaaaaaa')
    expect((await fn.deliver('video.discovered', 'aaaaaaaaaaa', data)).status).toBe(202)
    // The stand-in's video has no captions and no speech-to-text is configured: failed for that, not for yt-dlp.
    expect(await fn.stores.documents.getVideo('aaaaaaaaaaa')).toMatchObject({
      status: 'failed',
      error: NO_CAPTIONS_REASON,
      title: 'Video aaaaaaaaaaa',
    })
    const [run] = await ytdlp.runs()
    const argv = run!.argv
    expect(valuesOf(argv, '--cookies')).toEqual([expect.stringMatching(/\/ytrag-python-\d+-\w+\/cookies\.txt$/)])
    expect(run!.cookies).toBe('# Netscape HTTP Cookie File\n')
    expect(valuesOf(argv, '--extractor-args')).toEqual([
      'youtube:player_client=default,mweb;po_token=mweb.gvs+TOKEN',
      'youtubetab:skip=webpage',
    ])
    expect(valuesOf(argv, '--sleep-requests')).toEqual(['2'])
    expect(valuesOf(argv, '--js-runtimes')).toEqual([`node:${process.execPath}`])
    expect(valuesOf(argv, '--remote-components')).toEqual(['ejs:npm'])
    expect(valuesOf(argv, '--proxy')).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/)])
    expect(argv.join(' ')).not.toMatch(/pa:ss@word|pa%3Ass%40word/)
    expect(run!.fetched).toEqual([
      { url: `https://${siteHost}/youtubei/v1/player`, status: '200 tunnel; HTTP/1.1 200 OK' },
    ])
    expect(upstream.seen).toContainEqual({
      method: 'CONNECT',
      target: siteHost,
      authorization: `Basic ${Buffer.from('operator:pa:ss@word').toString('base64')}`,
    })
  })
})

describe("YouTube's bot check", () => {
  let ytdlp: RecordedYtDlp
  beforeAll(async () => {
    ytdlp = await recordedYtDlp(join(dir, 'bot'), { version: '2025.11.12', reply: { stderr: BOT_CHECK, exitCode: 1 } })
  })

  it('fails the video with the settings that answer it (the job says so), answers 2xx, and backs the host off', async () => {
    fn = await startFunctionUnderTest(download, {
      YOUTUBE_RAG__TOOLS__YTDLP_PATH: ytdlp.path,
      YOUTUBE_RAG__CHANNELS__RATE_LIMIT_BACKOFF_SECONDS: '600',
    })
    const data = await discovered(fn, 'bbbbbbbbbbb')
    const started = Date.now()
    // 2xx: the Broker does not send it again into the refusal.
    expect((await fn.deliver('video.discovered', 'bbbbbbbbbbb', data)).status).toBe(202)
    const video = await fn.stores.documents.getVideo('bbbbbbbbbbb')
    expect(video?.status).toBe('failed')
    expect(video?.error).toMatch(
      /^yt-dlp could not read https:\/\/www\.youtube\.com\/watch\?v=bbbbbbbbbbb: \[youtube\] bbbbbbbbbbb: Sign in to confirm you’re not a bot\./,
    )
    for (const setting of ADVICE) expect(video?.error).toContain(setting)
    const job = await fn.stores.documents.getJob('job-bbbbbbbbbbb')
    expect(job).toMatchObject({ status: 'failed', errors: [{ videoId: 'bbbbbbbbbbb', message: video!.error }] })
    expect(fn.sink.events.map((event) => [event.name, (event.data as { reason: string }).reason])).toEqual([
      ['video.failed', video!.error],
    ])
    // The host is left alone for CHANNELS__RATE_LIMIT_BACKOFF_SECONDS, for every replica (the store).
    const backoff = await fn.stores.documents.hostBackoff('www.youtube.com', new Date())
    expect(backoff?.reason).toMatch(/Sign in to confirm you’re not a bot/)
    expect(Date.parse(backoff!.until) - started).toBeGreaterThanOrEqual(599_000)
    // Counted, for an alert.
    expect(await (await fetch(new URL('/metrics', fn.url))).text()).toMatch(/^ytrag_ytdlp_blocked_total\{[^}]*\} 1$/m)
  })

  it('fails the next video of that host at once with the same advice, running no yt-dlp, while the backoff lasts', async () => {
    fn = await startFunctionUnderTest(download, { YOUTUBE_RAG__TOOLS__YTDLP_PATH: ytdlp.path })
    const until = new Date(Date.now() + 60_000)
    await fn.stores.documents.backOffHost('www.youtube.com', until, '[youtube] x: Sign in to confirm you’re not a bot')
    const runs = (await ytdlp.runs()).length
    // youtu.be is YouTube too: the backoff is YouTube's, not one name's.
    const data = { ...(await discovered(fn, 'ccccccccccc')), url: 'https://youtu.be/ccccccccccc' }
    expect((await fn.deliver('video.discovered', 'ccccccccccc', data)).status).toBe(202)
    const video = await fn.stores.documents.getVideo('ccccccccccc')
    expect(video?.status).toBe('failed')
    expect(video?.error).toMatch(
      new RegExp(
        `^www\\.youtube\\.com is left alone until ${until.toISOString().replace(/\./g, '\\.')} after \\[youtube\\] x: Sign in to confirm you’re not a bot; nothing was sent to it\\. `,
      ),
    )
    for (const setting of ADVICE) expect(video?.error).toContain(setting)
    expect((await ytdlp.runs()).length).toBe(runs)
  })
})

describe('readiness of download, as in the cluster', () => {
  const readiness = async (under: FunctionUnderTest) => {
    const answer = await fetch(new URL('/health/ready', under.url))
    return {
      status: answer.status,
      body: (await answer.json()) as {
        status: string
        failing?: Record<string, string>
        degraded?: Record<string, string>
      },
    }
  }

  it('answers 503 without yt-dlp, naming TOOLS__YTDLP_PATH', async () => {
    fn = await startFunctionUnderTest(download, { YOUTUBE_RAG__TOOLS__YTDLP_PATH: join(dir, 'no-yt-dlp') })
    const { status, body } = await readiness(fn)
    expect(status).toBe(503)
    expect(body.failing?.ytdlp).toMatch(
      /no-yt-dlp" is not an executable yt-dlp; install yt-dlp .*YOUTUBE_RAG__TOOLS__YTDLP_PATH/,
    )
  })

  it('answers 200 degraded below the floor (warn), 503 with refuse', async () => {
    const old = await recordedYtDlp(join(dir, 'old'), { version: '2024.12.23' })
    fn = await startFunctionUnderTest(download, { YOUTUBE_RAG__TOOLS__YTDLP_PATH: old.path })
    await probeYtDlp(old.path)
    expect(await readiness(fn)).toMatchObject({
      status: 200,
      body: { status: 'degraded', degraded: { ytdlp: expect.stringContaining('yt-dlp 2024.12.23') } },
    })
    await fn.close()
    fn = await startFunctionUnderTest(download, {
      YOUTUBE_RAG__TOOLS__YTDLP_PATH: old.path,
      YOUTUBE_RAG__YTDLP__BELOW_FLOOR: 'refuse',
    })
    expect(await readiness(fn)).toMatchObject({
      status: 503,
      body: { failing: { ytdlp: expect.stringMatching(/yt-dlp 2024\.12\.23 .* is older than 2025\.11\.12/) } },
    })
  })
})
