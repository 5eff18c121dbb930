// The dead-letter entry alone: the package's main one brings the local broker and its YAML parser.
import { readDeadLetterInfo } from '@ytrag/broker/dead-letter'
import { InvalidEventError } from '@ytrag/events'
import { videoLifecycle, type FunctionDefinition } from '@ytrag/function'
import type { Stage } from '@ytrag/stores'

// Which stage a subscriber's failure belongs to, by the Service the delivery was meant for.
// Only these own a video's stage; `discover` owns a job's discovery. Any other subscriber (the
// api follows outcomes only to log them) owns nothing, so its failed delivery changes nothing.
const stageOfSubscriber: Record<string, Stage> = { download: 'download', transcribe: 'transcribe', indexer: 'index' }
const JOB_OWNER = 'discover'

/** The message a failed response carried: our functions answer `{error:{message}}`. */
function reasonFrom(data: string): string {
  try {
    const parsed = JSON.parse(data) as { error?: { message?: string } }
    if (parsed.error?.message) return parsed.error.message
  } catch {
    // not JSON: the raw text is the reason
  }
  return data
}

const field = (data: unknown, key: string): string | undefined => {
  const value = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[key] : undefined
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * `dead-letter`: every Trigger's dead-letter sink. An event lands here when its delivery failed
 * after every retry; the stage its subscriber owns is failed with the reason (or, for a failed
 * discovery, the job), so nothing waits forever and the user sees why. It acts only on what
 * Knative dead-lettered: an event without the `knativeerror*` attributes is refused (400) and
 * changes nothing, and so does one whose work is already done or belongs to an earlier run.
 *
 * @example
 * ```ts
 * const app = createFunctionApp(deadLetter, dependencies)
 * ```
 */
export const deadLetter: FunctionDefinition = {
  name: 'dead-letter',
  onAnyEvent: async (event, context) => {
    const { stores, logger } = context
    const info = readDeadLetterInfo(event)
    if (!info) {
      throw new InvalidEventError(
        `event ${event.id} (${event.type}) carries no knativeerrordest: only dead-lettered deliveries are taken`,
      )
    }
    const { service } = info
    const code = info.code ? ` (HTTP ${info.code})` : ''
    const detail = info.data ? `: ${reasonFrom(info.data)}` : ''
    const reason = `delivery to ${service} failed after every retry${code}${detail}`

    let data: unknown = event.data
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data)
      } catch {
        // data that is not JSON names no video or job; the log line below keeps it
      }
    }
    const jobId = field(data, 'jobId')
    const videoId = field(data, 'videoId')
    logger.error(
      { destination: info.destination, reason, jobId, videoId, eventType: event.type },
      'event dead-lettered',
    )
    // By the function that could not take it (the Services of the cluster: a bounded set).
    context.count(
      'ytrag_dead_letters_total',
      'Events that failed every delivery and reached the dead-letter sink, by the function they were for',
      1,
      { service },
    )

    const stage = stageOfSubscriber[service]
    if (stage && videoId && jobId) {
      const video = await stores.documents.getVideo(videoId)
      if (!video) return
      const lifecycle = videoLifecycle(context)
      const generation = (data as { generation?: unknown }).generation
      if (lifecycle.isStale(video, { generation: typeof generation === 'number' ? generation : undefined })) return
      const state = video.stages[stage].status
      // The work got done after all (another delivery of the same event), or was already judged.
      if (state === 'done' || state === 'skipped' || video.status === 'failed') return
      // Recorded, not announced: this sink has no K_SINK (and must not feed the broker it drains).
      await lifecycle.recordFailure(video, stage, reason, jobId)
    } else if (service === JOB_OWNER && jobId && !videoId) {
      const job = await stores.documents.getJob(jobId)
      if (job && !job.discovered) await stores.documents.failJob(jobId, reason)
    } else {
      logger.warn(
        { service, eventType: event.type },
        'dead-lettered delivery to a subscriber that owns no stage; nothing changed',
      )
    }
  },
}
