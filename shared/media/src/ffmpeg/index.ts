import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { withProcessSlot } from '@ytrag/processes'

/** ffmpeg ran but failed (or was stopped); the message ends with what it said last. */
export class FfmpegError extends Error {
  override name = 'FfmpegError'
}

/**
 * The ffmpeg to run: the configured one (`TOOLS__FFMPEG_PATH`), else the static build that
 * `@ffmpeg-installer/ffmpeg` ships inside the npm package, else `ffmpeg` on PATH.
 *
 * @example
 * const ffmpeg = ffmpegPath(config.tools.ffmpegPath) // '/…/@ffmpeg-installer/linux-x64/ffmpeg'
 */
export function ffmpegPath(configured?: string): string {
  if (configured) return configured
  try {
    return (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path
  } catch {
    // No build for this platform in the package: the system's, if any.
    return 'ffmpeg'
  }
}

export interface RunFfmpegOptions {
  /** Default: `ffmpegPath()`. */
  ffmpeg?: string
  /** Killed after this long. Default 10 minutes. */
  timeoutMs?: number
}

/**
 * Runs ffmpeg quietly (`-hide_banner -nostdin -y`) and gives what it wrote to stderr, where its
 * filters (silencedetect) report; throws an FfmpegError with its last words on failure.
 *
 * @example
 * await runFfmpeg(['-i', 'in.webm', '-ac', '1', 'out.wav'])
 */
export function runFfmpeg(
  args: string[],
  { ffmpeg = ffmpegPath(), timeoutMs = 600_000 }: RunFfmpegOptions = {},
): Promise<string> {
  // Within the process-wide cap on child processes; the timeout counts from the start, not the wait.
  return withProcessSlot(() => runNow(args, ffmpeg, timeoutMs))
}

function runNow(args: string[], ffmpeg: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // The input is a file the server downloaded from a site it does not trust: if it is a playlist
    // (HLS, concat) naming URLs, ffmpeg must not fetch them past the egress proxy. Local files only.
    execFile(
      ffmpeg,
      ['-hide_banner', '-nostdin', '-y', '-protocol_whitelist', 'file', ...args],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve(stderr)
        const last = stderr.trim().split('\n').slice(-3).join(' | ')
        const why = error.killed ? `was stopped after ${timeoutMs / 1000} s` : `failed (${error.code ?? error.message})`
        reject(new FfmpegError(`ffmpeg ${why}${last ? `: ${last}` : ''}`, { cause: error }))
      },
    )
  })
}
