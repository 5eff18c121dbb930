import type { FunctionDefinition } from '@ytrag/function'
import type { Stage } from '@ytrag/stores'

// Which stage a subscriber's failure belongs to, by the Service the delivery was meant for.
const stageOfSubscriber: Record<string, Stage> = { download: 'download', transcribe: 'transcribe', indexer: 'index' }

/** Knative base64-encodes the failed response's body; older brokers and ours may send it plain. */
function readErrorData(value: unknown): string {
  if (typeof value !== 'string' || value === '') return ''
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) {
    const decoded = Buffer.from(value, 'base64').toString('utf8')
    if (!decoded.includes('\uFFFD')) return decoded
  }
  return value
}

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
    const destination = String(event.knativeerrordest ?? 'unknown subscriber')
    const code = event.knativeerrorcode ? ` (HTTP ${String(event.knativeerrorcode)})` : ''
    const detail = reasonFrom(readErrorData(event.knativeerrordata))
    const service = destination.replace(/^https?:\/\//, '').split(/[./:]/)[0] ?? destination
    const reason = `delivery to ${service} failed after every retry${code}${detail ? `: ${detail}` : ''}`

    let data: unknown = event.data
    if (typeof data === 'string') {
      try {
        data = JSON.parse(data)
      } catch {
        // malformed data still gets recorded below, by subject when there is one
      }
    }
    const jobId = field(data, 'jobId')
    const videoId = field(data, 'videoId')
    logger.error({ destination, reason, jobId, videoId }, 'event dead-lettered')

    if (videoId) {
      await stores.documents.updateVideo(videoId, stageOfSubscriber[service] ?? 'download', 'failed', { status: 'failed', error: reason })
    } else if (jobId) {
      await stores.documents.failJob(jobId, reason)
    }
  },
}
