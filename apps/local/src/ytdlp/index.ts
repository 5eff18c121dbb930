// Which yt-dlp `npm start` runs. A developer's machine often has a yt-dlp from its package
// manager that is years old (Debian bookworm's is 2023.03.04), and YouTube needs a current one.
// So: the system's yt-dlp when it is recent enough; otherwise the current one youtube-dl-exec
// downloads (once, into STORAGE__DIR/bin, reused by later starts); and offline, the system's
// after all, with a warning that says what it lacks and how to fix it.
import { join } from 'node:path'
import { compareYtDlpVersions, DEFAULT_MIN_VERSION, downloadYtDlp, probeYtDlp, type YtDlpProbe } from '@ytrag/youtube'

export type LocalYtDlpOptions = {
  /** The machine's yt-dlp: TOOLS__YTDLP_PATH's default, a name on PATH. */
  binary: string
  /** YTDLP__MIN_VERSION. */
  minVersion?: string
  /** Where the downloaded yt-dlp is kept (STORAGE__DIR/bin). */
  dir: string
  /** The download may take this long. Default 60 s. */
  timeoutMs?: number
  /** youtube-dl-exec's settings (YOUTUBE_DL_HOST, GITHUB_TOKEN) come from here. Default `process.env`. */
  env?: Record<string, string | undefined>
  logger: { info(details: object, message: string): void; warn(details: object, message: string): void }
}

/** What was chosen, and why. */
export type LocalYtDlp = { path: string; source: 'system' | 'downloaded' | 'system-below-floor' | 'missing' }

const recentEnough = (
  probe: YtDlpProbe,
  minVersion: string,
): probe is Extract<YtDlpProbe, { found: true }> & { version: string } =>
  probe.found && probe.version !== undefined && compareYtDlpVersions(probe.version, minVersion) >= 0

const describe = (probe: YtDlpProbe) =>
  probe.found ? `yt-dlp ${probe.version ?? '(no version)'} at ${probe.path}` : probe.reason

/**
 * Chooses the yt-dlp for local mode: the system's when it is at least `minVersion`, else one
 * youtube-dl-exec downloaded (earlier, or now), else the system's with a warning. Each choice
 * is logged with what it means.
 *
 * @example
 * const { path } = await chooseLocalYtDlp({ binary: 'yt-dlp', dir: '.youtube-rag/bin', logger })
 * config = { ...config, tools: { ...config.tools, ytdlpPath: path } }
 */
export async function chooseLocalYtDlp(options: LocalYtDlpOptions): Promise<LocalYtDlp> {
  const { binary, dir, logger } = options
  const minVersion = options.minVersion ?? DEFAULT_MIN_VERSION
  const system = await probeYtDlp(binary)
  if (recentEnough(system, minVersion)) return { path: binary, source: 'system' }

  const kept = join(dir, 'yt-dlp')
  const earlier = await probeYtDlp(kept, { fresh: true })
  if (recentEnough(earlier, minVersion)) {
    logger.info(
      { ytdlp: kept, version: earlier.version },
      `using yt-dlp ${earlier.version} downloaded earlier (${kept}); the system's is ${system.found ? `${system.version ?? 'of no known version'}` : 'missing'}`,
    )
    return { path: kept, source: 'downloaded' }
  }

  const why = system.found
    ? `the system's ${describe(system)} is older than ${minVersion} (YOUTUBE_RAG__YTDLP__MIN_VERSION)`
    : `no yt-dlp on this machine (${system.reason})`
  logger.info({ dir }, `${why}: downloading the current yt-dlp with youtube-dl-exec into ${dir}`)
  let failure: string
  try {
    const downloaded = await downloadYtDlp({
      dir,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.env ? { env: options.env } : {}),
    })
    const probe = await probeYtDlp(downloaded, { fresh: true })
    if (recentEnough(probe, minVersion)) {
      logger.info(
        { ytdlp: downloaded, version: probe.version },
        `downloaded yt-dlp ${probe.version} into ${downloaded}; it is used from now on (delete it to fetch a newer one)`,
      )
      return { path: downloaded, source: 'downloaded' }
    }
    // The zipapp runs on the machine's python3; one too old for it says so here.
    failure = `the downloaded one does not run as a yt-dlp of ${minVersion} or later: ${describe(probe)}`
  } catch (error) {
    failure = (error as Error).message
  }
  if (system.found) {
    logger.warn(
      { ytdlp: system.path, version: system.version, minVersion, download: failure },
      `could not get a current yt-dlp (${failure}); using the system's ${describe(system)}, older than ${minVersion}: YouTube may refuse it. ` +
        'Update it (pip install -U yt-dlp), or start again online, or set YOUTUBE_RAG__TOOLS__YTDLP_PATH to a newer one',
    )
    return { path: binary, source: 'system-below-floor' }
  }
  logger.warn(
    { download: failure },
    `no yt-dlp to run (${system.reason}) and none could be downloaded (${failure}): install yt-dlp (pip install -U yt-dlp) or set YOUTUBE_RAG__TOOLS__YTDLP_PATH; until then nothing can be ingested`,
  )
  return { path: binary, source: 'missing' }
}
