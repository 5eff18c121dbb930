// A job's status, counts and errors are never stored: they are derived on every read from the
// job's own row and its linked videos, so no stage has to update the job when a video moves on
// (and no two stages race on a counter). Every adapter derives them with this one function.
import type { Job, JobError, JobSkip, Video } from '../../ports.ts'
import { STAGES } from '../video-status/index.ts'

/** What summarizeJob needs of the job itself. */
export interface JobFacts {
  discovered: boolean
  /** Set by failJob: the job failed as a whole. */
  error?: string | undefined
  updatedAt: string
}

/** What summarizeJob needs of each linked video; `undefined` for a link whose video does not exist (yet). */
export type LinkedVideoFacts = Pick<
  Video,
  'videoId' | 'status' | 'stages' | 'audio' | 'error' | 'skipReason' | 'updatedAt'
>

/** Minutes with one decimal: enough to see progress and cost, without float noise. */
const minutes = (seconds: number) => Math.round(seconds / 6) / 10

/**
 * Derives a job's status, counts, errors and updatedAt.
 *
 * - `failed` when the job failed as a whole (failJob);
 * - `queued` before discovery while no video is linked;
 * - `running` while a linked video is neither indexed, skipped nor failed, or discovery is not done;
 * - once all are done: `succeeded` if none failed (or there were none), `failed` if all failed, else
 *   `partial`. A skipped video (a live stream) is done without failing: its reason is in `skipped`.
 *
 * @example
 * summarizeJob({ discovered: true, updatedAt }, [indexedVideo, failedVideo]).status // 'partial'
 */
export function summarizeJob(
  job: JobFacts,
  videos: ReadonlyArray<LinkedVideoFacts | undefined>,
): Pick<Job, 'status' | 'discovered' | 'videos' | 'audioMinutes' | 'errors' | 'skipped' | 'updatedAt'> {
  const total = videos.length
  const indexed = videos.filter((video) => video?.status === 'indexed').length
  const failedVideos = videos.filter((video): video is LinkedVideoFacts => video?.status === 'failed')
  const failed = failedVideos.length
  const skipped = videos
    .filter((video): video is LinkedVideoFacts => video?.status === 'skipped')
    .map((video): JobSkip => ({ videoId: video.videoId, reason: video.skipReason ?? 'skipped' }))

  const errors: JobError[] = []
  if (job.error !== undefined) errors.push({ message: job.error })
  for (const video of failedVideos) {
    const stage = STAGES.find((name) => video.stages[name]?.status === 'failed')
    const message = video.error ?? (stage && video.stages[stage]?.error) ?? 'failed'
    errors.push(stage ? { videoId: video.videoId, stage, message } : { videoId: video.videoId, message })
  }

  let status: Job['status']
  if (job.error !== undefined) status = 'failed'
  else if (!job.discovered && total === 0) status = 'queued'
  else if (!job.discovered || indexed + skipped.length + failed < total) status = 'running'
  else if (failed === 0) status = 'succeeded'
  else if (failed === total) status = 'failed'
  else status = 'partial'

  let updatedAt = job.updatedAt
  for (const video of videos) if (video && video.updatedAt > updatedAt) updatedAt = video.updatedAt

  // A failed video's remaining audio will not be transcribed: it is no longer queued.
  let queuedSeconds = 0
  let doneSeconds = 0
  for (const video of videos) {
    if (!video?.audio) continue
    doneSeconds += video.audio.secondsDone
    if (video.status !== 'failed') queuedSeconds += Math.max(0, video.audio.seconds - video.audio.secondsDone)
  }

  return {
    status,
    discovered: job.discovered,
    videos: { total, indexed, failed, skipped: skipped.length },
    audioMinutes: { queued: minutes(queuedSeconds), done: minutes(doneSeconds) },
    errors,
    skipped,
    updatedAt,
  }
}
