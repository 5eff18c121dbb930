// What the local server says when what an ingest needs is missing: yt-dlp, disk space, a
// writable storage directory. Each answer names the setting to fix.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '@ytrag/config'
import { diskSpaceCheck, ytdlpCheck } from '@ytrag/function'
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

  it('is ready with the yt-dlp on PATH', async () => {
    await expect(ytdlpCheck('yt-dlp').ping()).resolves.toBeUndefined()
    await expect(ytdlpCheck('no-such-tool-anywhere').ping()).rejects.toThrow(/not an executable yt-dlp on PATH/)
  })

  it('calls a storage directory full under the free space it needs, naming YOUTUBE_RAG__STORAGE__DIR', async () => {
    // The real file system's free space, against a need no disk meets and one every disk does.
    await expect(diskSpaceCheck(dir, Number.MAX_SAFE_INTEGER).ping()).rejects.toThrow(/YOUTUBE_RAG__STORAGE__DIR\) has \d+ MB free/)
    await expect(diskSpaceCheck(dir, 1).ping()).resolves.toBeUndefined()
  })

  it('refuses to start on a storage directory it cannot write, with a ConfigError naming the setting', async () => {
    // Under a regular file no directory can be made, whoever runs the test (root included).
    const file = join(dir, 'a-file')
    writeFileSync(file, 'x')
    const started = startLocalServer({ env: env({ YOUTUBE_RAG__STORAGE__DIR: join(file, 'store') }) })
    await expect(started).rejects.toBeInstanceOf(ConfigError)
    await expect(started).rejects.toThrow(/YOUTUBE_RAG__STORAGE__DIR: the storage directory .* is not writable \(ENOTDIR\)/)
  })
})
