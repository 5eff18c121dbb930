// The current yt-dlp for a developer's machine, the way youtube-dl-exec gets it: its install
// script asks GitHub for yt-dlp's latest release and saves the `yt-dlp` file (a zipapp that runs
// on the machine's python3) into YOUTUBE_DL_DIR. pnpm does not run that script here
// (pnpm-workspace.yaml: allowBuilds youtube-dl-exec false: an install must not need GitHub, and
// the images pin their own yt-dlp); local mode runs it itself, once, when the machine's yt-dlp is
// missing or too old (apps/local).
import { execFile } from 'node:child_process'
import { mkdir, rename, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** youtube-dl-exec's install script, found where the package is installed. */
export function youtubeDlExecInstaller(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('youtube-dl-exec/package.json')), 'scripts', 'postinstall.js')
}

export type DownloadYtDlpOptions = {
  /** The folder the binary goes into, as `<dir>/yt-dlp`. */
  dir: string
  /** The download may take this long before it is stopped. Default 60 s. */
  timeoutMs?: number
  /**
   * The environment of the install script: youtube-dl-exec reads YOUTUBE_DL_HOST (where the
   * release is asked for) and GITHUB_TOKEN from it. Default `process.env`.
   */
  env?: Record<string, string | undefined>
}

/**
 * Downloads the latest yt-dlp with youtube-dl-exec's install script into `dir`, through a
 * folder of its own first so that a download cut off half-way never replaces a working one.
 * Gives the binary's path; throws with the script's own last words when it fails (offline).
 *
 * @example
 * const path = await downloadYtDlp({ dir: '.youtube-rag/bin' }) // '.youtube-rag/bin/yt-dlp'
 */
export async function downloadYtDlp(options: DownloadYtDlpOptions): Promise<string> {
  const staging = join(options.dir, `.download-${process.pid}`)
  await rm(staging, { recursive: true, force: true })
  await mkdir(staging, { recursive: true })
  try {
    const { YOUTUBE_DL_SKIP_DOWNLOAD: _skip, ...inherited } = options.env ?? process.env
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        [youtubeDlExecInstaller()],
        // The script names the file after YOUTUBE_DL_FILENAME; it is set so no inherited value renames it.
        {
          env: { ...inherited, YOUTUBE_DL_DIR: staging, YOUTUBE_DL_FILENAME: 'yt-dlp' },
          timeout: options.timeoutMs ?? 60_000,
          killSignal: 'SIGKILL',
        },
        (error, _stdout, stderr) => {
          if (!error) return resolve()
          // Node prints the script's crash as `[TypeError: fetch failed] {` then `[cause]: Error: getaddrinfo ENOTFOUND api.github.com`.
          const said = stderr
            .split('\n')
            .map((line) => line.trim())
            .filter((line) => /^\[?\w*Error\b|^\[cause\]/.test(line))
            .map((line) => line.replace(/^\[cause\]:\s*(?:\w*Error:\s*)?|^\[|\]?\s*\{?$/g, ''))
            .slice(0, 2)
            .join(': ')
          const why = error.killed
            ? `it took more than ${(options.timeoutMs ?? 60_000) / 1000} s`
            : said || error.message
          reject(new Error(`youtube-dl-exec could not download yt-dlp (${why.slice(0, 300)})`))
        },
      )
    })
    const target = join(options.dir, 'yt-dlp')
    await rename(join(staging, 'yt-dlp'), target)
    return target
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}
