import type { CloudEvent } from 'cloudevents'

/** Why an event reached the dead-letter sink, from the attributes Knative adds. */
export interface DeadLetterInfo {
  /** The URL the failed delivery went to (`knativeerrordest`). */
  destination: string
  /** The Service behind that URL: the first label of its host (`download` for `http://download.youtube-rag.svc.cluster.local`). */
  service: string
  /** The last HTTP status (`knativeerrorcode`); absent when the subscriber never answered. */
  code?: number
  /** The last response body or error message (`knativeerrordata`), decoded from base64. */
  data?: string
}

/**
 * Reads Knative's dead-letter attributes from an event, the same way for the cluster's
 * Broker and the local one (both base64-encode `knativeerrordata`).
 * Returns undefined for an event that did not come through a dead-letter sink.
 *
 * @example
 * ```ts
 * const info = readDeadLetterInfo(event)
 * // { destination: 'http://download.local/', service: 'download', code: 500, data: 'yt-dlp exited with 1' }
 * ```
 */
export function readDeadLetterInfo(event: CloudEvent<unknown>): DeadLetterInfo | undefined {
  const destination = event.knativeerrordest
  if (typeof destination !== 'string' || destination === '') return undefined
  let service = destination
  try {
    service = new URL(destination).hostname.split('.')[0] ?? destination
  } catch {
    // Not a URL: keep the value as the best name there is.
  }
  const code = Number(event.knativeerrorcode)
  const data = event.knativeerrordata
  return {
    destination,
    service,
    ...(event.knativeerrorcode !== undefined && Number.isInteger(code) ? { code } : {}),
    ...(typeof data === 'string' && data !== '' ? { data: decodeErrorData(data) } : {}),
  }
}

/** Knative sends base64; a value that is not valid base64 is kept as it is. */
function decodeErrorData(value: string): string {
  if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) return value
  return Buffer.from(value, 'base64').toString('utf8')
}
