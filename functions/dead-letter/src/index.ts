import { readDeadLetterInfo } from '@ytrag/broker'
import type { FunctionDefinition } from '@ytrag/function'
import type { Stage } from '@ytrag/stores'

// Which stage a subscriber's failure belongs to, by the Service the delivery was meant for.
const stageOfSubscriber: Record<string, Stage> = { download: 'download', transcribe: 'transcribe', indexer: 'index' }

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
 * after every retry; the video (or, for a failed discovery, the job) is marked failed with the
 * reason, so nothing waits forever and the user sees why.
 *
 * @example
 * ```ts
 * const app = createFunctionApp(deadLetter, dependencies)
 * ```
 */
export const deadLetter: FunctionDefinition = {
  name: 'dead-letter',
  onAnyEvent: async (event, { stores, logger }) => {
    const info = readDeadLetterInfo(event)
    const service = info?.service ?? 'an unknown subscriber'
    const code = info?.code ? ` (HTTP ${info.code})` : ''
    const detail = info?.data ? `: ${reasonFrom(info.data)}` : ''
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
    logger.error({ destination: info?.destination, reason, jobId, videoId, eventType: event.type }, 'event dead-lettered')

    if (videoId) {
      await stores.documents.updateVideo(videoId, stageOfSubscriber[service] ?? 'download', 'failed', { status: 'failed', error: reason })
    } else if (jobId) {
      await stores.documents.failJob(jobId, reason)
    }
  },
}
