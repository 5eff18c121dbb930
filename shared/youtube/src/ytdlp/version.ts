// Which yt-dlp this process runs, and whether it is recent enough. YouTube changes its pages and
// player often and an old yt-dlp fails on them, in ways that look like a broken video; so each
// function that runs yt-dlp asks it its version once at start-up (`yt-dlp --version`, within the
// process cap, with a short timeout), says so in its log and its readiness, and leaves out the
// flags an old one does not know. The answer is cached: a readiness probe never runs yt-dlp.
import { execFile } from 'node:child_process'
import { constants } from 'node:fs'
import { access } from 'node:fs/promises'
import { delimiter, isAbsolute, join } from 'node:path'
import { withProcessSlot } from '@ytrag/processes'

/** The release that brought `--js-runtimes` and `--remote-components` (and needs them for YouTube). */
export const NEW_FLAGS_SINCE = '2025.11.12'
/** YOUTUBE_RAG__YTDLP__MIN_VERSION's default. */
export const DEFAULT_MIN_VERSION = '2025.11.12'

/** How long `yt-dlp --version` may take (a zipapp on a cold disk takes a second or two). */
const PROBE_TIMEOUT_MS = 15_000
/** A failed probe (no yt-dlp yet) is asked again after this long, so installing one is noticed. */
const FAILED_PROBE_TTL_MS = 30_000

/** What `yt-dlp --version` said: where it is and its version, or why it could not be run. */
export type YtDlpProbe =
  | {
      found: true
      /** As configured (TOOLS__YTDLP_PATH). */
      binary: string
      /** The executable that runs: `binary` itself, or where PATH finds it. */
      path: string
      /** The date version (`2025.11.12`, a nightly `2025.11.12.233015`); undefined when it printed none. */
      version: string | undefined
      /** What it printed, for messages. */
      printed: string
    }
  | { found: false; binary: string; reason: string }

const VERSION = /(\d{4})\.(\d{1,2})\.(\d{1,2})(?:\.(\d+))?/

/**
 * The date version in what yt-dlp printed (`--version`, or a `-v` header), or undefined.
 *
 * @example
 * parseYtDlpVersion('2025.11.12\n') // '2025.11.12'
 * parseYtDlpVersion('[debug] yt-dlp version stable@2023.03.04 [392389b7d] (debian*)') // '2023.03.04'
 */
export function parseYtDlpVersion(printed: string): string | undefined {
  return VERSION.exec(printed)?.[0]
}

const parts = (version: string) => {
  const match = VERSION.exec(version)
  if (!match) throw new RangeError(`${JSON.stringify(version)} is not a yt-dlp date version (YYYY.MM.DD)`)
  return [match[1], match[2], match[3], match[4] ?? '0'].map(Number)
}

/**
 * Orders two date versions: negative when `a` is older, 0 when the same, positive when newer.
 *
 * @example
 * compareYtDlpVersions('2023.03.04', '2025.11.12') < 0 // true
 * compareYtDlpVersions('2025.11.12.233015', '2025.11.12') > 0 // true (a nightly of that day)
 */
export function compareYtDlpVersions(a: string, b: string): number {
  const [x, y] = [parts(a), parts(b)]
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return 0
}

/** Whether a yt-dlp of this version knows `--js-runtimes` and `--remote-components`. */
export const knowsNewFlags = (version: string | undefined) =>
  version !== undefined && compareYtDlpVersions(version, NEW_FLAGS_SINCE) >= 0

/** `binary` as an executable path: itself when it is a path, else the first on PATH; undefined when none is. */
export async function locateExecutable(
  binary: string,
  searchPath = process.env.PATH ?? '',
): Promise<string | undefined> {
  const candidates =
    isAbsolute(binary) || binary.includes('/')
      ? [binary]
      : searchPath
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, binary))
  for (const candidate of candidates) {
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate
  }
  return undefined
}

/** Runs a short-lived tool (`yt-dlp --version`, `yt-dlp -v`) within the process cap; gives what it printed, whatever its exit code. */
export function runBriefly(
  path: string,
  args: string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string; code: number | null; error?: Error }> {
  return withProcessSlot(
    () =>
      new Promise((resolve) => {
        execFile(
          path,
          args,
          { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1_000_000 },
          (error, stdout, stderr) => {
            const code = error
              ? typeof (error as { code?: unknown }).code === 'number'
                ? (error as { code: number }).code
                : null
              : 0
            resolve({ stdout, stderr, code, ...(error && code === null ? { error } : {}) })
          },
        )
      }),
  )
}

async function probeNow(binary: string, timeoutMs: number): Promise<YtDlpProbe> {
  const path = await locateExecutable(binary)
  if (!path) {
    const where = isAbsolute(binary) || binary.includes('/') ? '' : ' on PATH'
    return { found: false, binary, reason: `${JSON.stringify(binary)} is not an executable yt-dlp${where}` }
  }
  const ran = await runBriefly(path, ['--version'], timeoutMs)
  if (ran.error || ran.code !== 0) {
    const said = (ran.stderr.trim().split('\n').at(-1) ?? '').slice(0, 200)
    const why =
      ran.error?.message.includes('ETIMEDOUT') || (ran.error as { killed?: boolean } | undefined)?.killed
        ? `did not answer within ${timeoutMs / 1000} s`
        : `failed${said ? `: ${said}` : ` (exit code ${ran.code})`}`
    return { found: false, binary, reason: `${path} --version ${why}` }
  }
  const printed = ran.stdout.trim()
  return { found: true, binary, path, version: parseYtDlpVersion(printed), printed }
}

const probes = new Map<string, { at: number; probe: Promise<YtDlpProbe> }>()

/**
 * Runs `<binary> --version` once per process (within the process cap) and keeps the answer; a
 * failed one (no yt-dlp) is asked again at most every 30 s, so a yt-dlp installed later is found.
 *
 * @example
 * const probe = await probeYtDlp(config.tools.ytdlpPath)
 * if (probe.found) console.log(probe.path, probe.version) // /usr/bin/yt-dlp 2025.11.12
 */
export function probeYtDlp(
  binary = 'yt-dlp',
  options: { timeoutMs?: number /** Ask again (the file was replaced). */; fresh?: boolean } = {},
): Promise<YtDlpProbe> {
  const kept = options.fresh ? undefined : probes.get(binary)
  if (kept) {
    const stale = Date.now() - kept.at > FAILED_PROBE_TTL_MS
    if (!stale) return kept.probe
    // Only a failed answer goes stale; a found yt-dlp stays what it was for the process's life.
    const refreshed = kept.probe.then((probe) => (probe.found ? probe : freshProbe(binary, options.timeoutMs)))
    probes.set(binary, { at: Date.now(), probe: refreshed })
    return refreshed
  }
  const probe = freshProbe(binary, options.timeoutMs)
  probes.set(binary, { at: Date.now(), probe })
  return probe
}

const freshProbe = (binary: string, timeoutMs = PROBE_TIMEOUT_MS) =>
  probeNow(binary, timeoutMs).catch(
    (error: unknown): YtDlpProbe => ({ found: false, binary, reason: (error as Error).message }),
  )

/** What the version floor asks of yt-dlp (YOUTUBE_RAG__YTDLP__*). */
export type YtDlpFloor = {
  /** Default 2025.11.12. */
  minVersion?: string
  /** Default `warn`. */
  belowFloor?: 'warn' | 'refuse'
  /** Configured: each is left out (and said so) for a yt-dlp without the flag. */
  jsRuntimes?: readonly string[]
  remoteComponents?: readonly string[]
}

/** `ok`, or `warn` (degraded: it runs, the message says what to fix), or `fail` (not ready). */
export type YtDlpAssessment = { level: 'ok' | 'warn' | 'fail'; message: string }

const MISSING_FIX =
  'install yt-dlp (pip install -U yt-dlp, or the youtube-rag image) or set YOUTUBE_RAG__TOOLS__YTDLP_PATH'
const UPDATE_FIX =
  'update it (pip install -U yt-dlp, or yt-dlp -U for a standalone one; the images pin a current one) or point YOUTUBE_RAG__TOOLS__YTDLP_PATH at a newer one'

/** The flags this version has no such option for, among those configured. */
function leftOut(probe: Extract<YtDlpProbe, { found: true }>, floor: YtDlpFloor): string[] {
  if (knowsNewFlags(probe.version)) return []
  return [
    ...(floor.jsRuntimes?.length ? ['--js-runtimes'] : []),
    ...(floor.remoteComponents?.length ? ['--remote-components'] : []),
  ]
}

/**
 * Whether the probed yt-dlp will do, in words that name the version, the floor and the fix.
 * Missing is `fail` (nothing can be read without it); below the floor is `warn` or, with
 * YTDLP__BELOW_FLOOR=refuse, `fail`; a configured flag this version lacks is `warn`.
 *
 * @example
 * assessYtDlp(await probeYtDlp('yt-dlp'), { minVersion: '2025.11.12', belowFloor: 'warn' })
 * // { level: 'warn', message: 'yt-dlp 2023.03.04 (/usr/bin/yt-dlp) is older than 2025.11.12 …' }
 */
export function assessYtDlp(probe: YtDlpProbe, floor: YtDlpFloor = {}): YtDlpAssessment {
  if (!probe.found) return { level: 'fail', message: `${probe.reason}; ${MISSING_FIX}` }
  const minVersion = floor.minVersion ?? DEFAULT_MIN_VERSION
  const missing = leftOut(probe, floor)
  const named = missing.map((flag) => `${flag} (YOUTUBE_RAG__YTDLP__${flag.slice(2).replace(/-/g, '_').toUpperCase()})`)
  const without = named.length
    ? `; ${named.join(' and ')} ${named.length > 1 ? 'are' : 'is'} left out: this version has no such option`
    : ''
  if (probe.version === undefined) {
    return {
      level: 'warn',
      message: `yt-dlp at ${probe.path} printed no date version (${JSON.stringify(probe.printed.slice(0, 60))}), so it cannot be checked against ${minVersion} (YOUTUBE_RAG__YTDLP__MIN_VERSION)${without}`,
    }
  }
  const which = `yt-dlp ${probe.version} (${probe.path})`
  if (compareYtDlpVersions(probe.version, minVersion) < 0) {
    const refuse = floor.belowFloor === 'refuse'
    const mode = refuse
      ? 'YOUTUBE_RAG__YTDLP__BELOW_FLOOR=refuse: not ready until it is updated'
      : 'it runs anyway (YOUTUBE_RAG__YTDLP__BELOW_FLOOR=warn)'
    return {
      level: refuse ? 'fail' : 'warn',
      message: `${which} is older than ${minVersion} (YOUTUBE_RAG__YTDLP__MIN_VERSION) and YouTube's pages need a current one: ${UPDATE_FIX}; ${mode}${without}`,
    }
  }
  if (missing.length) return { level: 'warn', message: `${which}${without}; ${UPDATE_FIX}` }
  return { level: 'ok', message: which }
}

const logged = new Set<string>()

/** A readiness check's answer when it is up but not everything works: 200, the reason in the body. */
export type Degraded = { degraded: string }

/** How long after start-up the version is asked when no readiness probe came first. */
const VERSION_PROBE_GRACE_MS = 2_000

/**
 * yt-dlp as a readiness check (the shape `@ytrag/function` takes): the probe is started after the
 * first readiness answer (at once with BELOW_FLOOR=refuse) and kept, its assessment logged once (a warning below the floor), and each readiness probe reads
 * the kept answer. `fail` throws (503), `warn` answers degraded (200), `ok` nothing.
 *
 * @example
 * const readiness = { ytdlp: ytdlpReadiness(config.tools.ytdlpPath, config.ytdlp, logger) }
 */
export function ytdlpReadiness(
  binary: string,
  floor: YtDlpFloor,
  logger?: {
    warn(details: object, message: string): void
    error(details: object, message: string): void
    info(details: object, message: string): void
  },
  // biome-ignore lint/suspicious/noConfusingVoidType: a readiness check's ping resolves nothing when healthy, as the stores' do
): { label: string; ping(): Promise<void | Degraded> } {
  const assess = async () => assessYtDlp(await probeYtDlp(binary), floor)
  // Said once, at start-up, where an operator reads first (once per process: local mode builds
  // this for several functions of one yt-dlp).
  const key = JSON.stringify([binary, floor])
  if (logger && !logged.has(key)) logged.add(key)
  else logger = undefined
  // `yt-dlp --version` is a Python start (~0.4 s of a core): a cold start's first readiness probe
  // must neither wait for it nor share the machine's two cores with it. So the question is asked
  // once the first probe has been answered (or after a grace period, for a server nobody probes),
  // and until it answers an executable yt-dlp is ready enough; unless a version below the floor
  // would refuse (BELOW_FLOOR=refuse): then readiness asks at once and waits for the version.
  let first: Promise<YtDlpAssessment> | undefined
  const askFirst = () =>
    (first ??= assess().then((assessment) => {
      const details = { binary, minVersion: floor.minVersion ?? DEFAULT_MIN_VERSION }
      if (assessment.level === 'ok') logger?.info(details, assessment.message)
      else if (assessment.level === 'warn') logger?.warn(details, assessment.message)
      else logger?.error(details, assessment.message)
      return assessment
    }))
  const refuses = floor.belowFloor === 'refuse'
  if (refuses) void askFirst()
  else setTimeout(() => void askFirst(), VERSION_PROBE_GRACE_MS).unref()
  return {
    label: 'yt-dlp',
    async ping() {
      // The first probe is answered before Python starts (from an answer the process already has, if any).
      if (!first) setImmediate(() => void askFirst())
      const asked = first ? probeYtDlp(binary) : probes.get(binary)?.probe
      // A race with a settled promise: the answer if it is in, else undefined at once.
      const answered = asked && (await Promise.race([asked, Promise.resolve(undefined)]))
      if (!answered && !refuses && (await locateExecutable(binary))) return undefined
      const { level, message } = await assess()
      if (level === 'fail') throw new Error(message)
      if (level === 'warn') return { degraded: message }
      return undefined
    },
  }
}
