// The operator's yt-dlp settings (YOUTUBE_RAG__YTDLP__*) as they reach yt-dlp: a recorded yt-dlp
// writes down its arguments, the cookies it was handed, and what its requests through --proxy
// met at the operator's proxy (a loopback one that records what it saw).
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRecordingProxy, type RecordingProxy } from '../egress/recording-proxy.ts'
import { recordedYtDlp } from '../fixtures/recorded-ytdlp.ts'
import { BlockedByYouTubeError, ExtractionError, videoInfo, ytdlpOptionsFrom, type YtDlpOptions } from './index.ts'

let dir: string
let site: Server
let siteHost: string
let upstream: RecordingProxy
let cookiesFile: string
const COOKIES = '# Netscape HTTP Cookie File\n.youtube.com\tTRUE\t/\tTRUE\t0\tSID\tsecret-session\n'

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ytrag-settings-'))
  cookiesFile = join(dir, 'cookies.txt')
  await writeFile(cookiesFile, COOKIES)
  // The far side of the tunnel: a site the guard allows, on loopback.
  site = createServer((request, response) => response.end(`page ${request.url}`))
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve))
  siteHost = `127.0.0.1:${(site.address() as AddressInfo).port}`
  upstream = await startRecordingProxy({ user: 'operator', password: 's3cret' })
})
afterAll(async () => {
  await upstream.close()
  site.closeAllConnections()
  await new Promise<void>((resolve) => site.close(() => resolve()))
  await rm(dir, { recursive: true, force: true })
})

const INFO = {
  _type: 'video',
  id: 'dQw4w9WgXcQ',
  title: 'A talk',
  webpage_url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
  duration: 61,
}

/** The options a function builds from its configuration with every ytdlp setting given. */
const everySetting = (binary: string) =>
  ytdlpOptionsFrom({
    tools: { ytdlpPath: binary, ytdlpTimeoutSeconds: 30 },
    ingest: { allowedHosts: ['www.youtube.com'], fetchHosts: [siteHost], proxyMaxBytes: 1_000_000 },
    ytdlp: {
      cookiesFile,
      proxy: upstream.url,
      extractorArgs: ['youtube:player_client=default,mweb;po_token=mweb.gvs+TOKEN', 'youtubetab:skip=webpage'],
      sleepRequestsSeconds: 1.5,
      jsRuntimes: ['node', 'quickjs:/opt/qjs'],
      remoteComponents: ['ejs:npm'],
    },
  })

/** The value after each occurrence of `flag`. */
const valuesOf = (argv: string[], flag: string) => argv.flatMap((arg, i) => (arg === flag ? [argv[i + 1]!] : []))

describe('the operator settings reach yt-dlp', () => {
  it('lets the hosts of a remote component through the egress guard: setting ejs:github is enough to fetch the solver', () => {
    const hostsOf = (remoteComponents: string[]) =>
      ytdlpOptionsFrom({
        tools: { ytdlpPath: 'yt-dlp', ytdlpTimeoutSeconds: 30 },
        ingest: { allowedHosts: ['www.youtube.com'], fetchHosts: ['*.googlevideo.com'], proxyMaxBytes: 1_000_000 },
        ytdlp: { remoteComponents },
      }).egress.allowedHosts
    expect(hostsOf([])).toEqual(['www.youtube.com', '*.googlevideo.com'])
    expect(hostsOf(['ejs:github'])).toEqual([
      'www.youtube.com',
      '*.googlevideo.com',
      'github.com',
      'release-assets.githubusercontent.com',
      'objects.githubusercontent.com',
    ])
    expect(hostsOf(['ejs:npm'])).toEqual(['www.youtube.com', '*.googlevideo.com', 'registry.npmjs.org'])
  })

  it('passes each one, the new flags to a yt-dlp that has them, through the guard to the operator proxy', async () => {
    const ytdlp = await recordedYtDlp(join(dir, 'current'), {
      version: '2025.11.12',
      reply: { stdout: INFO, fetch: [`https://${siteHost}/youtubei/v1/player`] },
    })
    const info = await videoInfo('https://www.youtube.com/watch?v=dQw4w9WgXcQ', undefined, everySetting(ytdlp.path))
    expect(info.title).toBe('A talk')
    const [run] = await ytdlp.runs()
    const argv = run!.argv
    // Cookies: a copy in the run's scratch folder, never the (read-only) Secret itself; removed after.
    const [cookies] = valuesOf(argv, '--cookies')
    expect(cookies).toMatch(new RegExp(`^${tmpdir()}/ytrag-python-${process.pid}-\\w+/cookies\\.txt$`))
    expect(run!.cookies).toBe(COOKIES)
    expect(existsSync(cookies!)).toBe(false)
    expect(await readFile(cookiesFile, 'utf8')).toBe(COOKIES)
    expect(valuesOf(argv, '--extractor-args')).toEqual([
      'youtube:player_client=default,mweb;po_token=mweb.gvs+TOKEN',
      'youtubetab:skip=webpage',
    ])
    expect(valuesOf(argv, '--sleep-requests')).toEqual(['1.5'])
    // Only the runtimes listed (--no-js-runtimes first), `node` being this very Node.
    expect(argv.indexOf('--no-js-runtimes')).toBeLessThan(argv.indexOf('--js-runtimes'))
    expect(valuesOf(argv, '--js-runtimes')).toEqual([`node:${process.execPath}`, 'quickjs:/opt/qjs'])
    expect(valuesOf(argv, '--remote-components')).toEqual(['ejs:npm'])
    // The guard's flags come last; --proxy is the guard, not the operator's proxy.
    expect(argv.slice(-7)).toEqual([
      '--proxy',
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      '--downloader',
      'native',
      '--ignore-config',
      '--',
      'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
    ])
    expect(argv.join(' ')).not.toContain('s3cret')
    // What yt-dlp requested went guard → operator proxy (CONNECT, with its credentials) → the site.
    expect(run!.fetched).toEqual([
      { url: `https://${siteHost}/youtubei/v1/player`, status: '200 tunnel; HTTP/1.1 200 OK' },
    ])
    expect(upstream.seen).toContainEqual({
      method: 'CONNECT',
      target: siteHost,
      authorization: `Basic ${Buffer.from('operator:s3cret').toString('base64')}`,
    })
  })

  it('leaves --js-runtimes and --remote-components out for a yt-dlp older than 2025.11.12, and keeps the rest', async () => {
    const ytdlp = await recordedYtDlp(join(dir, 'old'), { version: '2023.03.04', reply: { stdout: INFO } })
    await videoInfo('https://www.youtube.com/watch?v=dQw4w9WgXcQ', undefined, everySetting(ytdlp.path))
    const [run] = await ytdlp.runs()
    expect(run!.argv).not.toContain('--js-runtimes')
    expect(run!.argv).not.toContain('--no-js-runtimes')
    expect(run!.argv).not.toContain('--remote-components')
    expect(valuesOf(run!.argv, '--extractor-args')).toHaveLength(2)
    expect(valuesOf(run!.argv, '--sleep-requests')).toEqual(['1.5'])
    expect(run!.cookies).toBe(COOKIES)
    // The version was asked once, before the run.
    expect((await ytdlp.calls()).map((call) => call.argv[0])).toEqual(['--version', '--dump-single-json'])
  })

  it('passes nothing of its own without settings, and asks no version', async () => {
    const ytdlp = await recordedYtDlp(join(dir, 'bare'), { version: '2025.11.12', reply: { stdout: INFO } })
    const options: YtDlpOptions = { binary: ytdlp.path, egress: { allowedHosts: [] } }
    await videoInfo('https://www.youtube.com/watch?v=dQw4w9WgXcQ', undefined, options)
    expect((await ytdlp.calls()).map((call) => call.argv)).toEqual([
      [
        '--dump-single-json',
        '--no-playlist',
        '--proxy',
        expect.any(String),
        '--downloader',
        'native',
        '--ignore-config',
        '--',
        'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
      ],
    ])
  })

  it('names YOUTUBE_RAG__YTDLP__COOKIES_FILE when the cookies file is gone at run time', async () => {
    const ytdlp = await recordedYtDlp(join(dir, 'gone'), { version: '2025.11.12', reply: { stdout: INFO } })
    const options = { ...everySetting(ytdlp.path), settings: { cookiesFile: join(dir, 'removed-cookies.txt') } }
    const failed = videoInfo('https://www.youtube.com/watch?v=dQw4w9WgXcQ', undefined, options)
    await expect(failed).rejects.toBeInstanceOf(ExtractionError)
    await expect(failed).rejects.toThrow(
      /the cookies file .*removed-cookies\.txt \(YOUTUBE_RAG__YTDLP__COOKIES_FILE\) cannot be read \(ENOENT\)/,
    )
    expect(await ytdlp.runs()).toEqual([])
  })

  it("turns YouTube's bot check into a BlockedByYouTubeError that names the settings", async () => {
    const ytdlp = await recordedYtDlp(join(dir, 'bot'), {
      version: '2025.11.12',
      reply: {
        stderr:
          'ERROR: [youtube] dQw4w9WgXcQ: Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication.\n',
        exitCode: 1,
      },
    })
    const failed = videoInfo('https://www.youtube.com/watch?v=dQw4w9WgXcQ', undefined, everySetting(ytdlp.path))
    await expect(failed).rejects.toBeInstanceOf(BlockedByYouTubeError)
    await expect(failed).rejects.toThrow(
      /YOUTUBE_RAG__YTDLP__COOKIES_FILE.*YOUTUBE_RAG__YTDLP__PROXY.*YOUTUBE_RAG__YTDLP__EXTRACTOR_ARGS.*YOUTUBE_RAG__YTDLP__SLEEP_REQUESTS_SECONDS/,
    )
  })
})
