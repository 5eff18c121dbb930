// `ytrag doctor` run as a user runs it (the CLI in its own process, no server), against a
// recorded yt-dlp at TOOLS__YTDLP_PATH and against none.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { recordedYtDlp } from '@ytrag/youtube/fixtures'
import { afterAll, describe, expect, it } from 'vitest'
import { runDoctor } from './index.ts'

const dir = mkdtempSync(join(tmpdir(), 'ytrag-doctor-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const MAIN = join(import.meta.dirname, '..', 'main.ts')
const TSX = createRequire(import.meta.url).resolve('tsx/cli')

/** Only `env`, never the test process's own settings (a developer's OPENAI_API_KEY stays out). */
const settings = (extra: Record<string, string>) => ({
  YOUTUBE_RAG__STORAGE__DIR: join(dir, crypto.randomUUID()),
  ...extra,
})

function doctor(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, MAIN, 'doctor'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...settings(env) },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const HEADER = (version: string) =>
  [
    "[debug] Command-line config: ['-v', '--ignore-config']",
    `[debug] yt-dlp version stable@${version} from yt-dlp/yt-dlp [335653be8] (pip)`,
    '[debug] Optional libraries: certifi-2025.10.05, sqlite3-3.45.1, yt_dlp_ejs-0.3.1',
    `[debug] JS runtimes: node-${process.versions.node}`,
    '[debug] Proxy map: {}',
    '',
  ].join('\n')

describe('ytrag doctor', () => {
  it('reports a current yt-dlp, the runtime it finds, ffmpeg, the stores and the providers, and exits 0', async () => {
    const ytdlp = await recordedYtDlp(join(dir, 'current'), { version: '2025.11.12', verbose: HEADER('2025.11.12') })
    const { code, stdout, stderr } = await doctor({ YOUTUBE_RAG__TOOLS__YTDLP_PATH: ytdlp.path })
    expect(stderr).toBe('')
    const lines = stdout.trim().split('\n')
    expect(lines[0]).toBe(`OK    yt-dlp        yt-dlp 2025.11.12 (${ytdlp.path}), at least 2025.11.12`)
    expect(lines[1]).toBe(`OK    JS runtimes   node-${process.versions.node} (yt-dlp-ejs 0.3.1)`)
    expect(lines.find((line) => line.includes('ffmpeg'))).toMatch(/^OK {4}ffmpeg {8}ffmpeg \S+ \(\/.*ffmpeg\)$/)
    expect(lines.find((line) => line.includes(' stores '))).toMatch(/^OK {4}stores {8}embedded/)
    expect(lines.at(-1)).toMatch(/^OK {4}providers {5}none configured/)
    expect(code).toBe(0)
    // The header was asked for with this Node as the runtime, as the runs pass it.
    expect((await ytdlp.calls()).map((call) => call.argv)).toEqual([
      ['--version'],
      ['-v', '--ignore-config', '--no-js-runtimes', '--js-runtimes', `node:${process.execPath}`],
    ])
  })

  it('fails without yt-dlp, saying how to fix it, and exits 1', async () => {
    const { code, stdout } = await doctor({ YOUTUBE_RAG__TOOLS__YTDLP_PATH: join(dir, 'no-yt-dlp') })
    expect(stdout.split('\n')[0]).toBe(
      `FAIL  yt-dlp        "${join(dir, 'no-yt-dlp')}" is not an executable yt-dlp; install yt-dlp (pip install -U yt-dlp, or the youtube-rag image) or set YOUTUBE_RAG__TOOLS__YTDLP_PATH`,
    )
    expect(stdout).not.toContain('JS runtimes')
    expect(code).toBe(1)
  })

  it('says an old yt-dlp has no JS runtimes to report, and never asks it', async () => {
    const ytdlp = await recordedYtDlp(join(dir, 'old'), { version: '2023.03.04' })
    const results = await runDoctor({ env: settings({ YOUTUBE_RAG__TOOLS__YTDLP_PATH: ytdlp.path }) })
    expect(results.slice(0, 2)).toEqual([
      {
        name: 'yt-dlp',
        level: 'warn',
        detail: expect.stringMatching(/^yt-dlp 2023\.03\.04 .* is older than 2025\.11\.12/),
      },
      {
        name: 'JS runtimes',
        level: 'warn',
        detail: expect.stringMatching(
          /^not supported by this version \(yt-dlp 2023\.03\.04 predates --js-runtimes, 2025\.11\.12\)/,
        ),
      },
    ])
    expect((await ytdlp.calls()).map((call) => call.argv)).toEqual([['--version']])
  })

  it('fails on a configuration that does not load, and on a proxy or provider that does not answer, never showing a password', async () => {
    expect(await runDoctor({ env: settings({ YOUTUBE_RAG__YTDLP__PROXY: 'socks5://u:hunter2@h:1' }) })).toEqual([
      {
        name: 'configuration',
        level: 'fail',
        detail: expect.stringMatching(
          /^invalid configuration: YOUTUBE_RAG__YTDLP__PROXY: the scheme socks5: is not taken/,
        ),
      },
    ])
    const ytdlp = await recordedYtDlp(join(dir, 'for-network'), {
      version: '2025.11.12',
      verbose: HEADER('2025.11.12'),
    })
    const results = await runDoctor({
      env: settings({
        YOUTUBE_RAG__TOOLS__YTDLP_PATH: ytdlp.path,
        YOUTUBE_RAG__YTDLP__PROXY: 'http://op:hunter2@127.0.0.1:1',
        OPENAI__BASE_URL: 'http://127.0.0.1:1/v1',
        OPENAI_API_KEY: 'sk-secret',
      }),
      timeoutMs: 2000,
    })
    expect(results.find((result) => result.name === 'proxy')).toEqual({
      name: 'proxy',
      level: 'fail',
      detail: expect.stringMatching(
        /^http:\/\/op:\*\*\*@127\.0\.0\.1:1 cannot be reached .*YOUTUBE_RAG__YTDLP__PROXY$/,
      ),
    })
    expect(results.find((result) => result.name === 'providers')).toEqual({
      name: 'providers',
      level: 'fail',
      detail: expect.stringMatching(/at http:\/\/127\.0\.0\.1:1\/v1; key set: not reachable .*fix OPENAI__BASE_URL/),
    })
    expect(JSON.stringify(results)).not.toMatch(/hunter2|sk-secret/)
  })
})
