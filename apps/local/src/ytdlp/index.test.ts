// Which yt-dlp local mode runs, with no network: "GitHub" is a loopback server (youtube-dl-exec's
// YOUTUBE_DL_HOST) that serves a recorded yt-dlp as the release, or a closed port (offline).
import { readFile } from 'node:fs/promises'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { recordedYtDlp } from '@ytrag/youtube/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chooseLocalYtDlp } from './index.ts'

const dir = mkdtempSync(join(tmpdir(), 'ytrag-local-ytdlp-'))
let release: Server
let releaseUrl: string
let releaseHits = 0
let offlineUrl: string

beforeAll(async () => {
  // The "latest release": a current recorded yt-dlp, sent as GitHub sends a release asset.
  const current = await recordedYtDlp(join(dir, 'released'), { version: '2026.11.23' })
  const binary = await readFile(current.path)
  release = createServer((_request, response) => {
    releaseHits++
    response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(binary)
  })
  await new Promise<void>((resolve) => release.listen(0, '127.0.0.1', resolve))
  releaseUrl = `http://127.0.0.1:${(release.address() as AddressInfo).port}/yt-dlp`
  // A port nothing listens on: the machine is offline.
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  offlineUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`
  await new Promise<void>((resolve) => closed.close(() => resolve()))
})
afterAll(async () => {
  await new Promise<void>((resolve) => release.close(() => resolve()))
  rmSync(dir, { recursive: true, force: true })
})

const logs = () => {
  const lines: [string, string][] = []
  return {
    lines,
    logger: {
      info: (_: object, message: string) => lines.push(['info', message]),
      warn: (_: object, message: string) => lines.push(['warn', message]),
    },
  }
}

describe('chooseLocalYtDlp', () => {
  it("keeps the system's yt-dlp when it is recent enough, downloading nothing", async () => {
    const system = await recordedYtDlp(join(dir, 'system-current'), { version: '2025.11.12' })
    const { lines, logger } = logs()
    const hits = releaseHits
    expect(
      await chooseLocalYtDlp({
        binary: system.path,
        dir: join(dir, 'bin-a'),
        env: { YOUTUBE_DL_HOST: releaseUrl },
        logger,
      }),
    ).toEqual({ path: system.path, source: 'system' })
    expect(releaseHits).toBe(hits)
    expect(lines).toEqual([])
  })

  it("downloads the current yt-dlp with youtube-dl-exec when the system's is below the floor, and reuses it at the next start", async () => {
    const system = await recordedYtDlp(join(dir, 'system-old'), { version: '2023.03.04' })
    const bin = join(dir, 'bin-b')
    const { lines, logger } = logs()
    const chosen = await chooseLocalYtDlp({
      binary: system.path,
      dir: bin,
      env: { YOUTUBE_DL_HOST: releaseUrl, YOUTUBE_DL_SKIP_DOWNLOAD: '1' },
      logger,
    })
    expect(chosen).toEqual({ path: join(bin, 'yt-dlp'), source: 'downloaded' })
    expect(lines.map(([level]) => level)).toEqual(['info', 'info'])
    expect(lines[0]![1]).toMatch(
      /the system's yt-dlp 2023\.03\.04 at .* is older than 2025\.11\.12 \(YOUTUBE_RAG__YTDLP__MIN_VERSION\): downloading the current yt-dlp with youtube-dl-exec into /,
    )
    expect(lines[1]![1]).toMatch(/^downloaded yt-dlp 2026\.11\.23 into .*bin-b\/yt-dlp; it is used from now on/)

    const again = logs()
    const hits = releaseHits
    expect(
      await chooseLocalYtDlp({
        binary: system.path,
        dir: bin,
        env: { YOUTUBE_DL_HOST: releaseUrl },
        logger: again.logger,
      }),
    ).toEqual({ path: join(bin, 'yt-dlp'), source: 'downloaded' })
    expect(releaseHits).toBe(hits)
    expect(again.lines).toEqual([['info', expect.stringMatching(/^using yt-dlp 2026\.11\.23 downloaded earlier/)]])
  })

  it("offline, falls back to the system's yt-dlp with a warning that says what it lacks and how to fix it", async () => {
    const system = await recordedYtDlp(join(dir, 'system-offline'), { version: '2023.03.04' })
    const { lines, logger } = logs()
    const chosen = await chooseLocalYtDlp({
      binary: system.path,
      dir: join(dir, 'bin-c'),
      env: { YOUTUBE_DL_HOST: offlineUrl },
      timeoutMs: 20_000,
      logger,
    })
    expect(chosen).toEqual({ path: system.path, source: 'system-below-floor' })
    const warning = lines.find(([level]) => level === 'warn')![1]
    expect(warning).toMatch(
      /^could not get a current yt-dlp \(youtube-dl-exec could not download yt-dlp \(TypeError: fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+\)\); using the system's yt-dlp 2023\.03\.04 at .*, older than 2025\.11\.12: YouTube may refuse it\. Update it \(pip install -U yt-dlp\), or start again online, or set YOUTUBE_RAG__TOOLS__YTDLP_PATH/,
    )
  })

  it('says there is no yt-dlp at all when none is installed and none can be downloaded', async () => {
    const { lines, logger } = logs()
    const chosen = await chooseLocalYtDlp({
      binary: join(dir, 'no-yt-dlp'),
      dir: join(dir, 'bin-d'),
      env: { YOUTUBE_DL_HOST: offlineUrl },
      logger,
    })
    expect(chosen).toEqual({ path: join(dir, 'no-yt-dlp'), source: 'missing' })
    expect(lines.at(-1)).toEqual([
      'warn',
      expect.stringMatching(
        /^no yt-dlp to run \(.*no-yt-dlp" is not an executable yt-dlp\) and none could be downloaded .*: install yt-dlp \(pip install -U yt-dlp\) or set YOUTUBE_RAG__TOOLS__YTDLP_PATH/,
      ),
    ])
  })
})
