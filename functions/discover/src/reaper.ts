// The reaper: what the schedule's tick does for work that stopped moving. Knative redelivers a
// failed delivery and the local broker keeps its queue on disk, but a delivery answered 2xx by a
// handler that then lost its work, an event lost between two systems, or an operator's restore
// can still leave a video half-way. Each tick finds videos that have not changed for longer than
// their stage's request timeout, sends their recorded handoff again (same ids: a duplicate is
// taken once) and, after the retry budget, fails the stage with the reason, so every job ends.
import { videoLifecycle, type FunctionContext } from '@ytrag/function'
import { currentStage, type Stage, type Video } from '@ytrag/stores'

export interface ReaperOutcome {
  /** Videos whose handoff was sent again. */
  redriven: number
  /** Videos failed after the retry budget. */
  failed: number
  /** Jobs failed because their discovery never finished. */
  jobsFailed: number
}

/** The seconds after which a video waiting on `stage` is stuck: that stage's function's timeout. */
function stageTimeouts(config: FunctionContext['config']): Record<Stage, number> {
  return {
    download: config.reaper.downloadTimeoutSeconds,
    transcribe: config.reaper.transcribeTimeoutSeconds,
    index: config.reaper.indexerTimeoutSeconds,
  }
}

/** The job a video's latest handoff was sent for; a `video.failed` names one. */
const jobOf = (video: Video) => {
  const jobId = video.handoff?.events[0]?.data.jobId
  return typeof jobId === 'string' && jobId !== '' ? jobId : 'unknown'
}

/**
 * Re-drives or fails the videos and jobs that stopped moving.
 *
 * @example
 * ```ts
 * const { redriven, failed } = await reapStuckWork(context) // on each PingSource tick
 * ```
 */
export async function reapStuckWork(context: FunctionContext, now = new Date()): Promise<ReaperOutcome> {
  const { stores, config, logger } = context
  const { maxRedrives, maxPerTick } = config.reaper
  const timeouts = stageTimeouts(config)
  const lifecycle = videoLifecycle(context)
  const outcome: ReaperOutcome = { redriven: 0, failed: 0, jobsFailed: 0 }

  const shortest = Math.min(...Object.values(timeouts))
  const candidates = await stores.documents.listUnfinishedVideos({
    before: new Date(now.getTime() - shortest * 1000),
    limit: maxPerTick,
  })
  for (const video of candidates) {
    const stage = currentStage(video.stages) ?? 'index'
    const timeout = timeouts[stage]
    const idleSeconds = (now.getTime() - Date.parse(video.updatedAt)) / 1000
    if (idleSeconds < timeout) continue
    if (video.redrives >= maxRedrives) {
      const reason = `stuck in ${stage}: no progress for ${Math.round(idleSeconds)} s after ${video.redrives} re-sends; ingest it again to retry`
      await lifecycle.fail(video, stage, reason, jobOf(video))
      outcome.failed++
      continue
    }
    // Counted (and the clock restarted) before the send: a crash here costs one try, never loops.
    const counted = await stores.documents.patchVideo(video.videoId, video.generation, { redrives: video.redrives + 1 })
    if (!counted) continue
    if (await lifecycle.resend(counted)) outcome.redriven++
    logger.warn(
      {
        videoId: video.videoId,
        stage,
        idleSeconds: Math.round(idleSeconds),
        redrives: counted.redrives,
        handoff: video.handoff?.from ?? null,
      },
      'stuck video re-driven',
    )
  }

  // A job whose discovery never finished while discover had every try it gets: its request was lost.
  const discoverBudgetSeconds = config.reaper.discoverTimeoutSeconds * (maxRedrives + 1)
  const stuckJobs = await stores.documents.listUndiscoveredJobs({
    before: new Date(now.getTime() - discoverBudgetSeconds * 1000),
    limit: maxPerTick,
  })
  for (const job of stuckJobs) {
    await stores.documents.failJob(
      job.jobId,
      `discovery did not finish within ${Number(discoverBudgetSeconds.toFixed(1))} s (its request was lost); ingest again`,
    )
    outcome.jobsFailed++
  }
  if (outcome.redriven + outcome.failed + outcome.jobsFailed > 0)
    logger.warn({ ...outcome }, 'reaper: stuck work handled')
  return outcome
}
