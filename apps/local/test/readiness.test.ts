// What the local server says when what an ingest needs is missing: yt-dlp (or a recent enough
// one), disk space, a writable storage directory. Each answer names the setting to fix.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '@ytrag/config'
import { diskSpaceCheck, scratchSpaceCheck } from '@ytrag/function'
import { probeYtDlp, ytdlpReadiness } from '@ytrag/youtube'
import { recordedYtDlp } from '@ytrag/youtube/fixtures'
import { afterAll, describe, expect, it } from 'vitest'
import { startLocalServer } from '../src/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'ytrag-readiness-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const env = (extra: Record<string, string>) => ({
  YOUTUBE_RAG__STORAGE__DIR: join(dir, crypto.randomUUID()),
  YOUTUBE_RAG__SERVER__PORT: '0',
  YOUTUBE_RAG__BROKER__PING_SCHEDULE: 'off',
  YOUTUBE_RAG__LOG__LEVEL: 'silent',
  ...extra,
})

describe('local readiness', () => {
  it('reports yt-dlp missing with 503, naming YOUTUBE_RAG__TOOLS__YTDLP_PATH', async () => {
    const server = await startLocalServer({ env: env({ YOUTUBE_RAG__TOOLS__YTDLP_PATH: join(dir, 'no-such-yt-dlp') }) })
    try {
      const answer = await fetch(`${server.url}/health/ready`)
      expect(answer.status).toBe(503)
      const body = (await answer.json()) as { message: string; failing: Record<string, string> }
      expect(body.failing.ytdlp).toMatch(/YOUTUBE_RAG__TOOLS__YTDLP_PATH/)
      expect(body.message).toMatch(/yt-dlp/)
    } finally {
      await server.close()
    }
  })

  it('finds the yt-dlp on PATH, and says when there is none', async () => {
    await expect(ytdlpReadiness('yt-dlp', { minVersion: '2000.01.01' }).ping()).resolves.toBeUndefined()
    await expect(ytdlpReadiness('no-such-tool-anywhere', {}).ping()).rejects.toThrow(/not an executable yt-dlp on PATH/)
  })

  it('answers 200 "degraded" for a yt-dlp below the floor with BELOW_FLOOR=warn, naming the version, the floor and the fix', async () => {
    const ytdlp = await recordedYtDlp(join(dir, 'old-warn'), { version: '2023.03.04' })
    const server = await startLocalServer({ env: env({ YOUTUBE_RAG__TOOLS__YTDLP_PATH: ytdlp.path }) })
    try {
      // Ready (200) at once; degraded once `yt-dlp --version` has answered.
      await probeYtDlp(ytdlp.path)
      const answer = await fetch(`${server.url}/health/ready`)
      expect(answer.status).toBe(200)
      const body = (await answer.json()) as { status: string; message: string; degraded: Record<string, string> }
      expect(body.status).toBe('degraded')
      expect(body.degraded.ytdlp).toMatch(
        /^yt-dlp: yt-dlp 2023\.03\.04 \(.*\) is older than 2025\.11\.12 \(YOUTUBE_RAG__YTDLP__MIN_VERSION\)/,
      )
      expect(body.degraded.ytdlp).toContain('--js-runtimes (YOUTUBE_RAG__YTDLP__JS_RUNTIMES) is left out')
      expect(body.message).toMatch(/^degraded: /)
      // One --version for the whole process: discover, download and the api share the answer.
      await fetch(`${server.url}/health/ready`)
      expect(await ytdlp.calls()).toEqual([{ argv: ['--version'] }])
    } finally {
      await server.close()
    }
  })

  it('answers 503 for a yt-dlp below the floor with BELOW_FLOOR=refuse, and 200 ready for a current one', async () => {
    const old = await recordedYtDlp(join(dir, 'old-refuse'), { version: '2023.03.04' })
    const refusing = await startLocalServer({
      env: env({ YOUTUBE_RAG__TOOLS__YTDLP_PATH: old.path, YOUTUBE_RAG__YTDLP__BELOW_FLOOR: 'refuse' }),
    })
    try {
      const answer = await fetch(`${refusing.url}/health/ready`)
      expect(answer.status).toBe(503)
      const body = (await answer.json()) as { failing: Record<string, string> }
      expect(body.failing.ytdlp).toMatch(
        /yt-dlp 2023\.03\.04 .* is older than 2025\.11\.12 .*update it \(pip install -U yt-dlp.*YOUTUBE_RAG__YTDLP__BELOW_FLOOR=refuse/,
      )
    } finally {
      await refusing.close()
    }
    const current = await recordedYtDlp(join(dir, 'current'), { version: '2025.11.12' })
    const ready = await startLocalServer({ env: env({ YOUTUBE_RAG__TOOLS__YTDLP_PATH: current.path }) })
    try {
      const answer = await fetch(`${ready.url}/health/ready`)
      expect([answer.status, ((await answer.json()) as { status: string }).status]).toEqual([200, 'ready'])
    } finally {
      await ready.close()
    }
  })

  it('calls a storage directory full under the free space it needs, naming YOUTUBE_RAG__STORAGE__DIR', async () => {
    // The real file system's free space, against a need no disk meets and one every disk does.
    await expect(diskSpaceCheck(dir, { minFreeBytes: Number.MAX_SAFE_INTEGER }).ping()).rejects.toThrow(
      /YOUTUBE_RAG__STORAGE__DIR\) has \d+ MB free/,
    )
    await expect(diskSpaceCheck(dir, { minFreeBytes: 1 }).ping()).resolves.toBeUndefined()
  })

  it("calls the scratch folder full the same way, naming the pod's /tmp (download and transcribe check it in every mode)", async () => {
    const scratch = diskSpaceCheck(tmpdir(), {
      minFreeBytes: Number.MAX_SAFE_INTEGER,
      label: 'scratch space',
      setting: "TMPDIR, the pod's /tmp emptyDir",
    })
    expect(scratch.label).toBe('scratch space')
    await expect(scratch.ping()).rejects.toThrow(
      new RegExp(`^${tmpdir()} \\(TMPDIR, the pod's /tmp emptyDir\\) has \\d+ MB free`),
    )
    expect(scratchSpaceCheck().label).toBe('scratch space')
    await expect(scratchSpaceCheck().ping()).resolves.toBeUndefined()
  })

  it('refuses to start on a storage directory it cannot write, with a ConfigError naming the setting', async () => {
    // Under a regular file no directory can be made, whoever runs the test (root included).
    const file = join(dir, 'a-file')
    writeFileSync(file, 'x')
    const started = startLocalServer({ env: env({ YOUTUBE_RAG__STORAGE__DIR: join(file, 'store') }) })
    await expect(started).rejects.toBeInstanceOf(ConfigError)
    await expect(started).rejects.toThrow(
      /YOUTUBE_RAG__STORAGE__DIR: the storage directory .* is not writable \(ENOTDIR\)/,
    )
  })
})
