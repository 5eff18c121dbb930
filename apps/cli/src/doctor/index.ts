// `ytrag doctor`: what this machine's configuration would run with, checked without a server:
// yt-dlp (where, which version, against the floor), its JavaScript runtimes, ffmpeg, the stores
// and the model providers. Each line is OK, WARN or FAIL with what to do. The yt-dlp verdict and
// the store pings are the ones readiness uses (assessYtDlp, each store's ping, diskSpaceCheck).
import { existsSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { ConfigError, loadConfig, type Config } from '@ytrag/config'
import { diskSpaceCheck } from '@ytrag/function'
import { ffmpegPath } from '@ytrag/media'
import { rateLimiterFromConfig } from '@ytrag/rate-limit'
import { openStores } from '@ytrag/stores'
import {
  assessYtDlp,
  compareYtDlpVersions,
  knowsNewFlags,
  locateExecutable,
  NEW_FLAGS_SINCE,
  probeYtDlp,
  redactProxyUrl,
  runBriefly,
  type YtDlpProbe,
} from '@ytrag/youtube'

type CheckLevel = 'ok' | 'warn' | 'fail'

/** One line of the report. */
export type CheckResult = { name: string; level: CheckLevel; detail: string }

export type DoctorOptions = {
  /** The configuration and secrets (OPENAI_API_KEY…). Default `process.env`. */
  env?: Record<string, string | undefined>
  /** How long one network check (a store, a provider, a proxy) may take. Default 5 s. */
  timeoutMs?: number
}

/** Credentials in URLs (`scheme://user:password@host`) never reach the terminal. */
const redact = (text: string) => text.replace(/\/\/([^/@:\s]*):[^/@\s]+@/g, '//$1:***@')

const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms).unref(),
    ),
  ])

const message = (error: unknown) => redact((error as Error).message ?? String(error))

/**
 * The yt-dlp `npm start` would run: the configured one, or (local mode's choice, when
 * TOOLS__YTDLP_PATH is not set) the one downloaded into STORAGE__DIR/bin when that is newer.
 */
async function chosenYtDlp(
  config: Config,
  env: Record<string, string | undefined>,
): Promise<{ probe: YtDlpProbe; note: string }> {
  const configured = await probeYtDlp(config.tools.ytdlpPath)
  const pathSet = ['YOUTUBE_RAG__TOOLS__YTDLP_PATH', 'TOOLS__YTDLP_PATH'].some(
    (name) => env[name] !== undefined || env[`${name}_FILE`] !== undefined,
  )
  const downloaded = join(config.storage.dir, 'bin', 'yt-dlp')
  if (pathSet || config.ytdlp.localDownload === 'off' || !existsSync(downloaded)) return { probe: configured, note: '' }
  const local = await probeYtDlp(downloaded)
  const newer =
    local.found &&
    local.version &&
    (!configured.found || !configured.version || compareYtDlpVersions(local.version, configured.version) > 0)
  return newer
    ? { probe: local, note: ' (downloaded by npm start; used instead of the PATH one)' }
    : { probe: configured, note: '' }
}

/** yt-dlp's debug header (`yt-dlp -v` without a URL) with the configured runtimes: which ones it found. */
async function jsRuntimes(probe: Extract<YtDlpProbe, { found: true }>, config: Config): Promise<CheckResult> {
  const name = 'JS runtimes'
  if (!knowsNewFlags(probe.version)) {
    return {
      name,
      level: 'warn',
      detail: `not supported by this version (yt-dlp ${probe.version ?? '?'} predates --js-runtimes, ${NEW_FLAGS_SINCE}): YouTube's challenges go unsolved; update yt-dlp`,
    }
  }
  const runtimes = config.ytdlp.jsRuntimes.map((runtime) =>
    runtime.toLowerCase() === 'node' ? `node:${process.execPath}` : runtime,
  )
  const flags = [
    ...(runtimes.length ? ['--no-js-runtimes', ...runtimes.flatMap((runtime) => ['--js-runtimes', runtime])] : []),
    ...config.ytdlp.remoteComponents.flatMap((component) => ['--remote-components', component]),
  ]
  const ran = await runBriefly(probe.path, ['-v', '--ignore-config', ...flags], 20_000)
  const header = `${ran.stdout}\n${ran.stderr}`
  const found = /^\[debug\] JS runtimes: (.+)$/m.exec(header)?.[1]?.trim()
  if (found === undefined)
    return {
      name,
      level: 'warn',
      detail: `yt-dlp -v printed no "JS runtimes" line (${ran.error?.message ?? `exit code ${ran.code}`})`,
    }
  if (found === 'none') {
    return {
      name,
      level: 'warn',
      detail: `none found of ${runtimes.join(', ') || "yt-dlp's default (deno)"}: install one or fix YOUTUBE_RAG__YTDLP__JS_RUNTIMES (node uses this Node)`,
    }
  }
  if (/unsupported/.test(found))
    return {
      name,
      level: 'warn',
      detail: `${found}: too old for yt-dlp's challenge solver; update that runtime or list another in YOUTUBE_RAG__YTDLP__JS_RUNTIMES`,
    }
  const ejs = /yt_dlp_ejs-[\w.]+/.exec(header)?.[0]
  if (!ejs && config.ytdlp.remoteComponents.length === 0) {
    return {
      name,
      level: 'warn',
      detail: `${found}, but yt-dlp has no challenge solver script (yt-dlp-ejs): install yt-dlp with it (pip install -U "yt-dlp[default]") or set YOUTUBE_RAG__YTDLP__REMOTE_COMPONENTS=ejs:npm`,
    }
  }
  return {
    name,
    level: 'ok',
    detail: `${found}${ejs ? ` (${ejs.replace('yt_dlp_ejs-', 'yt-dlp-ejs ')})` : ` (solver script from ${config.ytdlp.remoteComponents.join(', ')})`}`,
  }
}

async function ffmpeg(config: Config): Promise<CheckResult> {
  const configured = ffmpegPath(config.tools.ffmpegPath)
  const path = await locateExecutable(configured)
  if (!path)
    return {
      name: 'ffmpeg',
      level: 'fail',
      detail: `${JSON.stringify(configured)} is not an executable ffmpeg: install ffmpeg or set YOUTUBE_RAG__TOOLS__FFMPEG_PATH (needed for captions in other formats and for speech-to-text)`,
    }
  const ran = await runBriefly(path, ['-version'], 10_000)
  const first = ran.stdout.split('\n')[0]?.trim()
  if (ran.code !== 0 || !first)
    return {
      name: 'ffmpeg',
      level: 'fail',
      detail: `${path} -version failed (${ran.error?.message ?? `exit code ${ran.code}`}); reinstall it or set YOUTUBE_RAG__TOOLS__FFMPEG_PATH`,
    }
  const version = /^ffmpeg version (\S+)/.exec(first)?.[1] ?? first
  return { name: 'ffmpeg', level: 'ok', detail: `ffmpeg ${version} (${path})` }
}

/** The operator's yt-dlp settings that need something outside: the cookies file (read at load), the proxy (answers?). */
async function ytdlpSettings(config: Config, timeoutMs: number): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  if (config.ytdlp.cookiesFile)
    results.push({
      name: 'cookies',
      level: 'ok',
      detail: `${config.ytdlp.cookiesFile} (readable; copied for each run)`,
    })
  if (config.ytdlp.proxy) {
    const url = new URL(config.ytdlp.proxy)
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
    const shown = redactProxyUrl(config.ytdlp.proxy)
    try {
      await within(
        new Promise<void>((resolve, reject) => {
          const socket = connect(port, url.hostname.replace(/^\[|\]$/g, ''), () => {
            socket.destroy()
            resolve()
          })
          socket.on('error', reject)
        }),
        timeoutMs,
        shown,
      )
      results.push({ name: 'proxy', level: 'ok', detail: `${shown} accepts connections` })
    } catch (error) {
      results.push({
        name: 'proxy',
        level: 'fail',
        detail: `${shown} cannot be reached (${message(error)}): every yt-dlp request goes through it; fix YOUTUBE_RAG__YTDLP__PROXY`,
      })
    }
  }
  return results
}

async function stores(
  config: Config,
  env: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  const embedded =
    config.documentDb.provider === 'sqlite' ||
    config.vectorDb.provider === 'sqlite' ||
    config.blobStorage.provider === 'directory'
  const allEmbedded =
    config.documentDb.provider === 'sqlite' &&
    config.vectorDb.provider === 'sqlite' &&
    config.blobStorage.provider === 'directory'
  if (embedded) {
    try {
      const answer = await diskSpaceCheck(config.storage.dir).ping()
      results.push({
        name: 'storage dir',
        level: answer ? 'warn' : 'ok',
        detail: answer ? answer.degraded : `${config.storage.dir}`,
      })
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
      results.push({
        name: 'storage dir',
        level: missing ? 'ok' : 'fail',
        detail: missing ? `${config.storage.dir} (made at the first start)` : message(error),
      })
      // Nothing to ping yet, and opening the stores would make them: a check changes nothing.
      if (missing && allEmbedded)
        return [
          ...results,
          {
            name: 'stores',
            level: 'ok',
            detail: `embedded (SQLite and files in ${config.storage.dir}), made at the first start`,
          },
        ]
    }
  }
  let opened: Awaited<ReturnType<typeof openStores>> | undefined
  try {
    opened = await openStores(config, { env })
  } catch (error) {
    return [...results, { name: 'stores', level: 'fail', detail: `could not be opened: ${message(error)}` }]
  }
  const fixes = {
    documents:
      config.documentDb.provider === 'mongodb'
        ? 'start MongoDB or fix YOUTUBE_RAG__DOCUMENT_DB__URI (or __HOST/__PORT)'
        : 'check YOUTUBE_RAG__STORAGE__DIR',
    chunks:
      config.vectorDb.provider === 'qdrant'
        ? 'start Qdrant or fix YOUTUBE_RAG__VECTOR_DB__URL (or __HOST/__PORT) and QDRANT_API_KEY'
        : 'check YOUTUBE_RAG__STORAGE__DIR',
    blobs:
      config.blobStorage.provider === 's3'
        ? 'start the S3 server or fix YOUTUBE_RAG__BLOB_STORAGE__ENDPOINT, __BUCKET and the keys'
        : 'check YOUTUBE_RAG__STORAGE__DIR',
  }
  const store = opened
  await Promise.all(
    (['documents', 'chunks', 'blobs'] as const).map(async (kind) => {
      const label = `${kind} (${store.providers[kind]})`
      try {
        await within(store[kind].ping(), timeoutMs, label)
        results.push({ name: kind, level: 'ok', detail: `${store.providers[kind]} answers` })
      } catch (error) {
        results.push({
          name: kind,
          level: 'fail',
          detail: `${store.providers[kind]} does not answer (${message(error)}); ${fixes[kind]}`,
        })
      }
    }),
  )
  await opened.close().catch(() => undefined)
  if (config.rateLimit.provider === 'redis' && config.rateLimit.requests > 0) {
    try {
      const limiter = await within(rateLimiterFromConfig(config), timeoutMs, 'Redis')
      await limiter?.ping()
      await limiter?.close()
      results.push({ name: 'redis', level: 'ok', detail: `${redact(config.rateLimit.redisUrl)} answers` })
    } catch (error) {
      results.push({
        name: 'redis',
        level: 'fail',
        detail: `${message(error)}; start Redis or fix YOUTUBE_RAG__RATE_LIMIT__REDIS_URL`,
      })
    }
  }
  const order = ['storage dir', 'documents', 'chunks', 'blobs', 'redis']
  return results.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name))
}

async function providers(
  config: Config,
  env: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<CheckResult> {
  const key = env.OPENAI_API_KEY
  const base = (config.openai.baseUrl ?? 'https://api.openai.com/v1').replace(/\/$/, '')
  if (!key && !config.openai.baseUrl) {
    return {
      name: 'providers',
      level: 'ok',
      detail: 'none configured (OPENAI_API_KEY, OPENAI__BASE_URL): captions only, BM25 search and extractive answers',
    }
  }
  const what = `embeddings ${config.openai.embeddingModel}, chat ${config.openai.chatModel} at ${redact(base)}; key ${key ? 'set' : 'not set'}`
  try {
    const answer = await within(
      fetch(`${base}/models`, { headers: key ? { authorization: `Bearer ${key}` } : {} }),
      timeoutMs,
      base,
    )
    await answer.body?.cancel()
    if (answer.status === 401 || answer.status === 403)
      return {
        name: 'providers',
        level: 'fail',
        detail: `${what}: the key was refused (${answer.status}); fix OPENAI_API_KEY`,
      }
    return { name: 'providers', level: 'ok', detail: `${what}: reachable (${answer.status})` }
  } catch (error) {
    return {
      name: 'providers',
      level: 'fail',
      detail: `${what}: not reachable (${message(error)}); fix OPENAI__BASE_URL or the network`,
    }
  }
}

/**
 * Runs every check against the configuration `env` gives. A configuration that does not load
 * is the one FAIL (its message names the variable).
 *
 * @example
 * const results = await runDoctor({ env: process.env })
 * process.exitCode = results.some((result) => result.level === 'fail') ? 1 : 0
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<CheckResult[]> {
  const env = options.env ?? process.env
  const timeoutMs = options.timeoutMs ?? 5000
  let config: Config
  try {
    config = loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return [{ name: 'configuration', level: 'fail', detail: redact(error.message) }]
    throw error
  }
  const results: CheckResult[] = []
  const { probe, note } = await chosenYtDlp(config, env)
  const assessment = assessYtDlp(probe, config.ytdlp)
  results.push({
    name: 'yt-dlp',
    level: assessment.level,
    detail: `${assessment.message}${note}${probe.found && assessment.level === 'ok' ? `, at least ${config.ytdlp.minVersion}` : ''}`,
  })
  if (probe.found) results.push(await jsRuntimes(probe, config))
  results.push(...(await ytdlpSettings(config, timeoutMs)))
  results.push(await ffmpeg(config))
  results.push(...(await stores(config, env, timeoutMs)))
  results.push(await providers(config, env, timeoutMs))
  return results.map((result) => ({ ...result, detail: redact(result.detail) }))
}

/** The report as lines: `OK   yt-dlp        yt-dlp 2025.11.12 (/usr/bin/yt-dlp), at least 2025.11.12`. */
export const formatDoctor = (results: CheckResult[]) =>
  results
    .map((result) => `${result.level.toUpperCase().padEnd(4)}  ${result.name.padEnd(12)}  ${result.detail}`)
    .join('\n')
