import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { withProcessSlot } from '@ytrag/processes'
import { create, type Flags } from 'youtube-dl-exec'
import { egressProxyFor, type EgressProxyOptions } from '../egress/proxy.ts'
import { scratchDir } from '../scratch/index.ts'
import { classifyFailure, ExtractionError, relevantLine } from './errors.ts'

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
}

/**
 * yt-dlp options from the configuration: the allow-list is the ingest hosts plus the fetch-only
 * hosts (media and caption servers).
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
  },
  /** The function's logger and metrics (its context): each refusal is logged and counted. */
  report: { logger?: { warn(details: object, message: string): void }; count?(name: string, help: string, value?: number): void } = {},
): YtDlpOptions {
  const { logger, count } = report
  return {
    binary: config.tools.ytdlpPath,
    timeoutMs: config.tools.ytdlpTimeoutSeconds * 1000,
    egress: {
      allowedHosts: [...config.ingest.allowedHosts, ...config.ingest.fetchHosts],
      maxBytes: config.ingest.proxyMaxBytes,
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
 * A scratch folder holding the hook, one per run (removed with it; a crashed process's is swept
 * at the next start like every scratch folder), and yt-dlp's environment pointing at it.
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

/** Flags in youtube-dl-exec's form: camelCase keys become `--kebab-case` options. */
export type RunFlags = Record<string, string | number | boolean | undefined>

export const DEFAULT_BINARY = 'yt-dlp'
export const DEFAULT_TIMEOUT_MS = 120_000

type Finished = { exitCode: number | null; stdout: string; stderr: string }

/** What a run is about, for error messages: the video's URL and what yt-dlp was asked to do. */
export type RunContext = { url: string; task?: string }

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
  // Within the process-wide cap on child processes; the timeout counts from the start, not the wait.
  return withProcessSlot(() => runNow(target, flags, options, context, proxy.url))
}

async function runNow(target: string, flags: RunFlags, options: YtDlpOptions, context: RunContext, proxy: string): Promise<string> {
  const binary = options.binary ?? DEFAULT_BINARY
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  // A user's yt-dlp config file could change the output we parse (e.g. add --no-flat-playlist)
  // or the proxy; the guard's flags come last so no caller's flag replaces them.
  const allFlags = { ...flags, ...guardFlags(proxy) }
  const { env, hooks } = await childEnvironment()
  try {
    return await runChild(target, allFlags, binary, timeoutMs, context, env)
  } finally {
    await rm(hooks, { recursive: true, force: true })
  }
}

async function runChild(target: string, allFlags: RunFlags, binary: string, timeoutMs: number, context: RunContext, env: Record<string, string | undefined>): Promise<string> {
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
    throw new ExtractionError(
      `yt-dlp timed out after ${timeoutMs / 1000} s trying to ${context.task ?? `read ${context.url}`} and was stopped${last ? ` (last said: ${last})` : ''}`,
      { url: context.url, ...(last ? { detail: last } : {}) },
    )
  }
  if (finished.exitCode !== 0) throw classifyFailure(finished.stderr, { ...context, exitCode: finished.exitCode })
  return finished.stdout
}

/** Runs yt-dlp with `-J` and parses the one JSON document it prints. */
export async function runYtDlpJson(url: string, flags: RunFlags, options: YtDlpOptions): Promise<Record<string, unknown>> {
  const stdout = await runYtDlp(url, { dumpSingleJson: true, ...flags }, options)
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch (error) {
    throw new ExtractionError(`yt-dlp printed something that is not JSON for ${url}: ${stdout.slice(0, 200)}`, { url, cause: error })
  }
  // On some failures yt-dlp still exits 0 and prints `null`.
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ExtractionError(`yt-dlp found no information for ${url}`, { url })
  }
  return parsed as Record<string, unknown>
}
