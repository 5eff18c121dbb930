import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { recordedYtDlp } from '../fixtures/recorded-ytdlp.ts'
import {
  assessYtDlp,
  compareYtDlpVersions,
  knowsNewFlags,
  parseYtDlpVersion,
  probeYtDlp,
  ytdlpReadiness,
} from './version.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ytrag-version-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('yt-dlp date versions', () => {
  it('reads the version from --version and from a -v header', () => {
    expect(parseYtDlpVersion('2025.11.12\n')).toBe('2025.11.12')
    expect(parseYtDlpVersion('2025.11.12.233015\n')).toBe('2025.11.12.233015')
    expect(parseYtDlpVersion('[debug] yt-dlp version stable@2023.03.04 [392389b7d] (debian*)')).toBe('2023.03.04')
    expect(parseYtDlpVersion('unknown')).toBeUndefined()
  })

  it('orders them by date, a nightly after its day', () => {
    expect(compareYtDlpVersions('2023.03.04', '2025.11.12')).toBeLessThan(0)
    expect(compareYtDlpVersions('2025.11.12', '2025.11.12')).toBe(0)
    expect(compareYtDlpVersions('2025.11.12.233015', '2025.11.12')).toBeGreaterThan(0)
    expect(compareYtDlpVersions('2026.1.2', '2025.12.31')).toBeGreaterThan(0)
    expect(knowsNewFlags('2025.11.12')).toBe(true)
    expect(knowsNewFlags('2025.10.22')).toBe(false)
    expect(knowsNewFlags(undefined)).toBe(false)
  })
})

describe('probeYtDlp', () => {
  it('runs --version once per process and keeps the answer', async () => {
    const ytdlp = await recordedYtDlp(join(dir, 'once'), { version: '2025.11.12' })
    const probes = await Promise.all([probeYtDlp(ytdlp.path), probeYtDlp(ytdlp.path), probeYtDlp(ytdlp.path)])
    await probeYtDlp(ytdlp.path)
    expect(probes[0]).toEqual({
      found: true,
      binary: ytdlp.path,
      path: ytdlp.path,
      version: '2025.11.12',
      printed: '2025.11.12',
    })
    expect((await ytdlp.calls()).map((call) => call.argv)).toEqual([['--version']])
  })

  it('says a yt-dlp is missing, or broken, without throwing', async () => {
    expect(await probeYtDlp(join(dir, 'no-such-yt-dlp'))).toEqual({
      found: false,
      binary: join(dir, 'no-such-yt-dlp'),
      reason: `"${join(dir, 'no-such-yt-dlp')}" is not an executable yt-dlp`,
    })
    expect(await probeYtDlp('no-such-yt-dlp-anywhere')).toMatchObject({
      found: false,
      reason: '"no-such-yt-dlp-anywhere" is not an executable yt-dlp on PATH',
    })
    const broken = await recordedYtDlp(join(dir, 'broken'))
    expect(await probeYtDlp(broken.path)).toMatchObject({
      found: false,
      reason: `${broken.path} --version failed: ImportError: a broken install`,
    })
  })
})

describe('assessYtDlp and its readiness', () => {
  const found = (version: string | undefined) => ({
    found: true as const,
    binary: 'yt-dlp',
    path: '/usr/bin/yt-dlp',
    version,
    printed: version ?? 'unknown',
  })

  it('is ok at or above the floor', () => {
    expect(assessYtDlp(found('2025.11.12'), { jsRuntimes: ['node'] })).toEqual({
      level: 'ok',
      message: 'yt-dlp 2025.11.12 (/usr/bin/yt-dlp)',
    })
  })

  it('warns below the floor, naming the version, the floor, the fix and the flags left out', () => {
    const { level, message } = assessYtDlp(found('2023.03.04'), {
      minVersion: '2025.11.12',
      belowFloor: 'warn',
      jsRuntimes: ['node'],
      remoteComponents: ['ejs:npm'],
    })
    expect(level).toBe('warn')
    expect(message).toMatch(
      /^yt-dlp 2023\.03\.04 \(\/usr\/bin\/yt-dlp\) is older than 2025\.11\.12 \(YOUTUBE_RAG__YTDLP__MIN_VERSION\)/,
    )
    expect(message).toContain('pip install -U yt-dlp')
    expect(message).toContain('YOUTUBE_RAG__TOOLS__YTDLP_PATH')
    expect(message).toContain('it runs anyway (YOUTUBE_RAG__YTDLP__BELOW_FLOOR=warn)')
    expect(message).toMatch(
      /--js-runtimes \(YOUTUBE_RAG__YTDLP__JS_RUNTIMES\) and --remote-components \(YOUTUBE_RAG__YTDLP__REMOTE_COMPONENTS\) are left out: this version has no such option$/,
    )
  })

  it('fails below the floor with refuse, and when yt-dlp is missing', () => {
    expect(assessYtDlp(found('2023.03.04'), { belowFloor: 'refuse' })).toMatchObject({
      level: 'fail',
      message: expect.stringContaining('YOUTUBE_RAG__YTDLP__BELOW_FLOOR=refuse: not ready until it is updated'),
    })
    expect(
      assessYtDlp({ found: false, binary: 'yt-dlp', reason: '"yt-dlp" is not an executable yt-dlp on PATH' }),
    ).toEqual({
      level: 'fail',
      message:
        '"yt-dlp" is not an executable yt-dlp on PATH; install yt-dlp (pip install -U yt-dlp, or the youtube-rag image) or set YOUTUBE_RAG__TOOLS__YTDLP_PATH',
    })
  })

  it('warns of a lowered floor that lets in a yt-dlp without the new flags, and of one without a date version', () => {
    expect(assessYtDlp(found('2025.10.22'), { minVersion: '2025.01.01', jsRuntimes: ['node'] })).toMatchObject({
      level: 'warn',
      message: expect.stringContaining('--js-runtimes (YOUTUBE_RAG__YTDLP__JS_RUNTIMES) is left out'),
    })
    expect(assessYtDlp(found(undefined))).toMatchObject({
      level: 'warn',
      message: expect.stringContaining('printed no date version'),
    })
  })

  it('answers readiness from the kept probe: degraded (warn), throws (refuse, missing), and logs it once', async () => {
    const old = await recordedYtDlp(join(dir, 'old'), { version: '2023.03.04' })
    const logged: [string, string][] = []
    const logger = {
      info: (_: object, message: string) => logged.push(['info', message]),
      warn: (_: object, message: string) => logged.push(['warn', message]),
      error: (_: object, message: string) => logged.push(['error', message]),
    }
    const warn = ytdlpReadiness(old.path, { minVersion: '2025.11.12', belowFloor: 'warn' }, logger)
    // Before `--version` answers, an executable yt-dlp is ready (a cold start does not wait on Python)…
    expect(await warn.ping()).toBeUndefined()
    // …and once it has, readiness says what it found.
    await probeYtDlp(old.path)
    for (let i = 0; i < 3; i++)
      expect(await warn.ping()).toEqual({
        degraded: expect.stringMatching(/^yt-dlp 2023\.03\.04 .* is older than 2025\.11\.12/),
      })
    await expect(ytdlpReadiness(old.path, { belowFloor: 'refuse' }).ping()).rejects.toThrow(
      /yt-dlp 2023\.03\.04 .* is older than 2025\.11\.12 .*BELOW_FLOOR=refuse/,
    )
    await expect(ytdlpReadiness(join(dir, 'absent'), {}).ping()).rejects.toThrow(
      /is not an executable yt-dlp; install yt-dlp .* or set YOUTUBE_RAG__TOOLS__YTDLP_PATH/,
    )
    // One --version for the whole process, however many probes.
    expect(await old.calls()).toHaveLength(1)
    expect(logged).toEqual([['warn', expect.stringMatching(/is older than 2025\.11\.12/)]])
  })
})
