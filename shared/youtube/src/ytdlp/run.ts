import { channel } from 'node:diagnostics_channel'
import { copyFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { withProcessSlot } from '@ytrag/processes'
import type { Flags } from 'youtube-dl-exec'
import { egressProxyFor, type EgressProxyOptions } from '../egress/proxy.ts'
import { scratchDir } from '../scratch/index.ts'
import { YTDLP_RUN_CHANNEL, type YtDlpOutcome, type YtDlpRunMessage, type YtDlpTask } from './diagnostics.ts'
import {
  BlockedByYouTubeError,
  classifyFailure,
  ExtractionError,
  relevantLine,
  VideoUnavailableError,
} from './errors.ts'
import { knowsNewFlags, probeYtDlp } from './version.ts'

/**
 * The operator's yt-dlp settings (YOUTUBE_RAG__YTDLP__*), each passed on every run: what answers
 * YouTube's bot checks and rate limits.
 */
export type YtDlpSettings = {
  /** A cookies.txt (`--cookies`); each run gets its own copy, since yt-dlp writes the jar back. */
  cookiesFile?: string | undefined
  /** Each one `--extractor-args`. */
  extractorArgs?: readonly string[] | undefined
  /** `--sleep-requests`. */
  sleepRequestsSeconds?: number | undefined
  /** `--js-runtimes`, each (`node` alone means this process's Node); only for a yt-dlp that has the flag. */
  jsRuntimes?: readonly string[] | undefined
  /** `--remote-components`, each; only for a yt-dlp that has the flag. */
  remoteComponents?: readonly string[] | undefined
}

export type YtDlpOptions = {
  /** The yt-dlp executable, a path or a name looked up on PATH. Default `'yt-dlp'`. */
  binary?: string
  /** How long one yt-dlp run may take before it is killed. Default 120000 (2 minutes). */
  timeoutMs?: number
  /**
   * The hosts yt-dlp may reach, and how: every request it makes goes through the process's
   * egress proxy for this allow-list (`--proxy`). Required, so no run can skip the guard.
   */
  egress: EgressProxyOptions
  /** The operator's settings, passed on every run. Default none. */
  settings?: YtDlpSettings
}

/**
 * Where yt-dlp fetches a remote component from (`--remote-components`), so setting the component
 * is enough: the egress guard lets those hosts through for it, as fetch-only hosts. `ejs:github`
 * is the JavaScript challenge solver from yt-dlp-ejs's GitHub release (GitHub redirects release
 * downloads to its asset hosts); `ejs:npm` the same from the npm registry (for Deno and Bun).
 */
const REMOTE_COMPONENT_HOSTS: Record<string, readonly string[]> = {
  github: ['github.com', 'release-assets.githubusercontent.com', 'objects.githubusercontent.com'],
  npm: ['registry.npmjs.org'],
}
const componentHosts = (component: string) => REMOTE_COMPONENT_HOSTS[component.split(':')[1] ?? ''] ?? []

/**
 * yt-dlp options from the configuration: the allow-list is the ingest hosts plus the fetch-only
 * hosts (media and caption servers) and those of the remote components configured.
 *
 * @example
 * ```ts
 * await listVideos(url, ytdlpOptionsFrom(config, context)) // context: { logger, count }
 * ```
 */
export function ytdlpOptionsFrom(
  config: {
    tools: { ytdlpPath: string; ytdlpTimeoutSeconds: number }
    ingest: { allowedHosts: readonly string[]; fetchHosts: readonly string[]; proxyMaxBytes: number }
    ytdlp?: YtDlpSettings & { proxy?: string | undefined }
  },
  /** The function's logger and metrics (its context): each refusal is logged and counted. */
  report: {
    logger?: { warn(details: object, message: string): void }
    count?(name: string, help: string, value?: number): void
  } = {},
): YtDlpOptions {
  const { logger, count } = report
  const { proxy, cookiesFile, extractorArgs, sleepRequestsSeconds, jsRuntimes, remoteComponents } = config.ytdlp ?? {}
  return {
    binary: config.tools.ytdlpPath,
    timeoutMs: config.tools.ytdlpTimeoutSeconds * 1000,
    settings: {
      ...(cookiesFile ? { cookiesFile } : {}),
      ...(extractorArgs?.length ? { extractorArgs } : {}),
      ...(sleepRequestsSeconds === undefined ? {} : { sleepRequestsSeconds }),
      ...(jsRuntimes?.length ? { jsRuntimes } : {}),
      ...(remoteComponents?.length ? { remoteComponents } : {}),
    },
    egress: {
      allowedHosts: [
        ...config.ingest.allowedHosts,
        ...config.ingest.fetchHosts,
        ...(remoteComponents ?? []).flatMap(componentHosts),
      ],
      maxBytes: config.ingest.proxyMaxBytes,
      // yt-dlp's --proxy is the guard; the operator's proxy is where the guard sends what it allows.
      ...(proxy ? { upstream: proxy } : {}),
      onRefusal: (refusal) => {
        logger?.warn(refusal, 'egress guard refused a request')
        count?.('ytrag_egress_refused_total', 'Requests of yt-dlp the egress guard refused', 1)
      },
    },
  }
}

// urllib skips a proxy for any host NO_PROXY names (proxy_bypass), and the ffmpeg yt-dlp may
// start reads HTTP(S)_PROXY itself: the child gets none of these, only `--proxy`.
const PROXY_VARIABLES = /^(?:https?|all|no|ftp)_proxy$/i

// yt-dlp's --proxy covers http and https only; urllib's FTP handler connects by itself, so a
// redirect, a caption or a media URL to ftp:// would reach any host past the egress proxy. This
// module, imported by yt-dlp's Python at start-up (PYTHONPATH), switches FTP off with a reason
// yt-dlp prints. Written out for each run rather than shipped as a file: the images bundle the
// TypeScript, and a .py beside it would not come along.
const SITECUSTOMIZE = `# Written by youtube-rag's runYtDlp (shared/youtube/src/ytdlp/run.ts); see the comment there.
import urllib.error
import urllib.request


def _refuse_ftp(self, req):
    raise urllib.error.URLError(f'refused by the egress guard: ftp:// is not fetched ({req.full_url})')


urllib.request.FTPHandler.ftp_open = _refuse_ftp
`

/**
 * A scratch folder holding the hook (and the run's copy of the cookies), one per run (removed
 * with it; a crashed process's is swept at the next start like every scratch folder), and
 * yt-dlp's environment pointing at it.
 */
async function childEnvironment(): Promise<{ env: Record<string, string | undefined>; hooks: string }> {
  const hooks = await scratchDir('python')
  await writeFile(join(hooks, 'sitecustomize.py'), SITECUSTOMIZE)
  const inherited = Object.entries(process.env).filter(([name]) => !PROXY_VARIABLES.test(name) && name !== 'PYTHONPATH')
  return { env: { ...Object.fromEntries(inherited), PYTHONPATH: hooks }, hooks }
}

// Every run: through the guard, and never a download that leaves yt-dlp's own HTTP stack (the
// native downloaders use it; ffmpeg or rtmpdump for HLS/RTMP would connect on their own).
const guardFlags = (proxy: string) => ({ proxy, downloader: 'native', ignoreConfig: true })

/** `node` alone is this very Node (the one yt-dlp's challenge solver was tested with here): its path is passed. */
const jsRuntimeFlag = (runtime: string) => (runtime.toLowerCase() === 'node' ? `node:${process.execPath}` : runtime)

/**
 * The operator's settings as flags. A yt-dlp older than 2025.11.12 would stop at an option it
 * does not know, so `--js-runtimes` and `--remote-components` are passed only to one that has
 * them (start-up's warning says they were left out). The cookies are copied into `dir` first:
 * yt-dlp saves its jar back into the file at exit, and the Secret mount is read-only (and runs
 * at once would write over each other).
 */
async function settingsFlags(
  settings: YtDlpSettings,
  binary: string,
  dir: string,
  context: RunContext,
): Promise<RunFlags> {
  const { cookiesFile, extractorArgs = [], sleepRequestsSeconds, jsRuntimes = [], remoteComponents = [] } = settings
  let cookies: string | undefined
  if (cookiesFile) {
    cookies = join(dir, 'cookies.txt')
    try {
      await copyFile(cookiesFile, cookies)
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      throw new ExtractionError(
        `the cookies file ${cookiesFile} (YOUTUBE_RAG__YTDLP__COOKIES_FILE) cannot be read (${reason}); mount it again or unset the setting`,
        {
          url: context.url,
          cause: error,
        },
      )
    }
  }
  const newFlags = jsRuntimes.length > 0 || remoteComponents.length > 0 ? knowsNewFlags(await versionOf(binary)) : false
  return {
    ...(cookies ? { cookies } : {}),
    ...(extractorArgs.length ? { extractorArgs: [...extractorArgs] } : {}),
    ...(sleepRequestsSeconds === undefined ? {} : { sleepRequests: sleepRequestsSeconds }),
    // Only the runtimes listed: without --no-js-runtimes yt-dlp would still prefer a deno on PATH.
    ...(newFlags && jsRuntimes.length ? { noJsRuntimes: true, jsRuntimes: jsRuntimes.map(jsRuntimeFlag) } : {}),
    ...(newFlags && remoteComponents.length ? { remoteComponents: [...remoteComponents] } : {}),
  }
}

/** The version start-up found (cached: the first run of a process may ask, none after). */
const versionOf = async (binary: string) => {
  const probe = await probeYtDlp(binary)
  return probe.found ? probe.version : undefined
}

/** Flags in youtube-dl-exec's form: camelCase keys become `--kebab-case` options; an array repeats the option. */
export type RunFlags = Record<string, string | number | boolean | string[] | undefined>

export const DEFAULT_BINARY = 'yt-dlp'
export const DEFAULT_TIMEOUT_MS = 120_000

type Finished = { exitCode: number | null; stdout: string; stderr: string }

/**
 * What a run is about: the video's URL and what yt-dlp was asked to do, in words for error
 * messages (`task`) and as one of a few kinds for metrics (`kind`).
 */
export type RunContext = { url: string; task?: string; kind?: YtDlpTask }

const runs = channel(YTDLP_RUN_CHANNEL)

/** Set on the error of a run stopped at its timeout, so the outcome says so whatever its words. */
const TIMED_OUT = Symbol('timed out')

/** A failed run's class, for metrics: bot checks and rate limits are told apart by yt-dlp's words. */
function outcomeOf(error: unknown): YtDlpOutcome {
  if (error instanceof ExtractionError && (error as { [TIMED_OUT]?: boolean })[TIMED_OUT]) return 'timeout'
  if (error instanceof BlockedByYouTubeError)
    return /not a bot/i.test(`${error.detail ?? ''} ${error.message}`) ? 'bot_check' : 'rate_limited'
  if (error instanceof VideoUnavailableError) return 'unavailable'
  return 'error'
}

/**
 * Runs yt-dlp once and gives its stdout, or throws a classified `YtDlpError`. `target` is the
 * URL (or `''` when the flags name an info JSON file instead). A run that outlives the timeout
 * is killed.
 */
export async function runYtDlp(
  target: string,
  flags: RunFlags,
  options: YtDlpOptions,
  context: RunContext = { url: target },
): Promise<string> {
  const proxy = await egressProxyFor(options.egress)
  const binary = options.binary ?? DEFAULT_BINARY
  // Asked before the slot is taken: the version probe takes one of its own.
  if (options.settings?.jsRuntimes?.length || options.settings?.remoteComponents?.length) await versionOf(binary)
  // Within the process-wide cap on child processes; the timeout counts from the start, not the wait.
  if (!runs.hasSubscribers) return withProcessSlot(() => runNow(target, flags, options, context, proxy.url))
  const started = performance.now()
  const report = (outcome: YtDlpOutcome) =>
    runs.publish({
      task: context.kind ?? 'other',
      seconds: (performance.now() - started) / 1000,
      outcome,
    } satisfies YtDlpRunMessage)
  try {
    const stdout = await withProcessSlot(() => runNow(target, flags, options, context, proxy.url))
    report('ok')
    return stdout
  } catch (error) {
    report(outcomeOf(error))
    throw error
  }
}

async function runNow(
  target: string,
  flags: RunFlags,
  options: YtDlpOptions,
  context: RunContext,
  proxy: string,
): Promise<string> {
  const binary = options.binary ?? DEFAULT_BINARY
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const { env, hooks } = await childEnvironment()
  try {
    // A user's yt-dlp config file could change the output we parse (e.g. add --no-flat-playlist)
    // or the proxy; the operator's settings come after the caller's flags, and the guard's last,
    // so nothing replaces them.
    const allFlags = {
      ...flags,
      ...(await settingsFlags(options.settings ?? {}, binary, hooks, context)),
      ...guardFlags(proxy),
    }
    return await runChild(target, allFlags, binary, timeoutMs, context, env)
  } finally {
    await rm(hooks, { recursive: true, force: true })
  }
}

async function runChild(
  target: string,
  allFlags: RunFlags,
  binary: string,
  timeoutMs: number,
  context: RunContext,
  env: Record<string, string | undefined>,
): Promise<string> {
  // Loaded by the first run, not at start-up: most starts never run yt-dlp (~4 ms of CPU).
  // CommonJS: a bundle's chunk of it exports only `default`; Node and tsx give the names too.
  const youtubeDl = await import('youtube-dl-exec')
  const create = youtubeDl.create ?? youtubeDl.default.create
  // youtube-dl-exec's Flags type lists only some options; dargs passes any key through.
  const child = create(binary).exec(target, allFlags as Flags, { reject: false, env } as object)
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    // SIGKILL: there is nothing of yt-dlp's worth waiting for, and its temp output is removed anyway.
    child.kill('SIGKILL')
  }, timeoutMs)
  let finished: Finished
  try {
    finished = (await child) as unknown as Finished
  } catch (error) {
    throw new ExtractionError(
      `could not run yt-dlp as ${JSON.stringify(binary)}: ${(error as Error).message}; install yt-dlp or set YOUTUBE_RAG__TOOLS__YTDLP_PATH`,
      { url: context.url, cause: error },
    )
  } finally {
    clearTimeout(timer)
  }
  if (timedOut) {
    const last = relevantLine(finished.stderr)
    const error = new ExtractionError(
      `yt-dlp timed out after ${timeoutMs / 1000} s trying to ${context.task ?? `read ${context.url}`} and was stopped${last ? ` (last said: ${last})` : ''}`,
      { url: context.url, ...(last ? { detail: last } : {}) },
    )
    throw Object.assign(error, { [TIMED_OUT]: true })
  }
  if (finished.exitCode !== 0) throw classifyFailure(finished.stderr, { ...context, exitCode: finished.exitCode })
  return finished.stdout
}

/** Runs yt-dlp with `-J` and parses the one JSON document it prints. */
export async function runYtDlpJson(
  url: string,
  flags: RunFlags,
  options: YtDlpOptions,
  kind?: YtDlpTask,
): Promise<Record<string, unknown>> {
  const stdout = await runYtDlp(url, { dumpSingleJson: true, ...flags }, options, { url, ...(kind ? { kind } : {}) })
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch (error) {
    throw new ExtractionError(`yt-dlp printed something that is not JSON for ${url}: ${stdout.slice(0, 200)}`, {
      url,
      cause: error,
    })
  }
  // On some failures yt-dlp still exits 0 and prints `null`.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ExtractionError(`yt-dlp found no information for ${url}`, { url })
  }
  return parsed as Record<string, unknown>
}
