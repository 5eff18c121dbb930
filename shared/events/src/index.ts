import { createRequire } from 'node:module'
import type * as CloudEventsSdk from 'cloudevents'
import type { CloudEvent } from 'cloudevents'
import { transcriptSourceSchema } from '@ytrag/domain'
import * as z from 'zod'

let sdk: typeof CloudEventsSdk | undefined
/**
 * The CloudEvents SDK, loaded when the first event is made, read or sent, not at start-up: its
 * index loads every binding and transport (Kafka, MQTT, an HTTP emitter, a big-number JSON
 * parser), ~13 ms of a cold start's CPU before the first readiness answer. A literal
 * `require('cloudevents')` is one the bundler resolves: in a function's bundle the SDK is bundled
 * and runs at this call; unbundled (tests, tsx: no `require` in a module), Node's require reads it.
 */
const cloudEvents = (): typeof CloudEventsSdk =>
  (sdk ??= typeof require === 'function' ? require('cloudevents') : createRequire(import.meta.url)('cloudevents'))

const videoId = z.string().min(1).max(200)
const jobId = z.string().min(1).max(100)
/**
 * The video's generation when the event was sent (a forced re-ingest starts a new one): a
 * handler drops an event of an earlier generation instead of redoing old work.
 */
const generation = z.number().int().min(0).optional()

/**
 * The event catalog: each event's short name with the zod schema of its `data`.
 * The CloudEvent `type` is `io.youtube-rag.<name>.v1`. Each schema is built by its first parse
 * (`z.lazy`), not at import: building zod schemas is a good part of a function's start-up, and
 * a function receives and sends only a few of these events.
 */
export const eventSchemas = {
  'ingest.requested': z.lazy(() =>
    z.object({
      jobId,
      url: z.string().url(),
      language: z.string().min(2).max(20).optional(),
      force: z.boolean().default(false),
      /** Transcribe the audio even when the video has captions. */
      speechToText: z.boolean().optional(),
    }),
  ),
  'channel.resync.requested': z.lazy(() =>
    z.object({
      /** The job the sync's videos are linked to, so its progress and errors can be followed. */
      jobId,
      channelId: z.string().min(1),
      url: z.string().url(),
      /** Why: the schedule, a new subscription (which backfills), or someone asking. */
      reason: z.enum(['scheduled', 'subscribed', 'manual']),
      /** A subscription's first sync lists this many of the newest videos (or all) instead of the feed's. */
      backfill: z.union([z.number().int().min(0), z.literal('all')]).optional(),
    }),
  ),
  'video.discovered': z.lazy(() =>
    z.object({
      jobId,
      videoId,
      /** The page yt-dlp reads the video from. */
      url: z.string().url(),
      /** For a page that holds several videos (a generic playlist page), which one (1-based). */
      playlistItem: z.number().int().positive().optional(),
      title: z.string().optional(),
      language: z.string().optional(),
      force: z.boolean().default(false),
      speechToText: z.boolean().optional(),
      /** false: a subscription that does not pay for speech-to-text; a video without captions fails instead. */
      speechToTextAllowed: z.boolean().optional(),
      generation,
    }),
  ),
  'audio.segment.ready': z.lazy(() =>
    z.object({
      jobId,
      videoId,
      index: z.number().int().min(0),
      count: z.number().int().positive(),
      startSeconds: z.number().min(0),
      durationSeconds: z.number().positive(),
      blobKey: z.string().min(1),
      /** The language asked for, a hint to the model. */
      language: z.string().optional(),
      generation,
    }),
  ),
  'transcript.ready': z.lazy(() =>
    z.object({
      jobId,
      videoId,
      blobKey: z.string().min(1),
      source: transcriptSourceSchema,
      language: z.string(),
      model: z.string().optional(),
      generation,
    }),
  ),
  'video.indexed': z.lazy(() => z.object({ jobId, videoId, chunkCount: z.number().int().min(0) })),
  'video.failed': z.lazy(() => z.object({ jobId, videoId, stage: z.string(), reason: z.string() })),
} as const

export type EventName = keyof typeof eventSchemas
export type EventData<N extends EventName> = z.infer<(typeof eventSchemas)[N]>

/** The type the Knative PingSource gives its events; its Trigger routes them to `discover`. */
export const PING_EVENT_TYPE = 'dev.knative.sources.ping'

const TYPE_PATTERN = /^io\.youtube-rag\.(.+)\.v1$/

/**
 * The CloudEvent `type` of a catalog event.
 *
 * @example
 * ```ts
 * eventType('video.discovered') // 'io.youtube-rag.video.discovered.v1'
 * ```
 */
export const eventType = (name: EventName) => `io.youtube-rag.${name}.v1`

/** The catalog name of a CloudEvent `type`, or undefined when the type is not ours. */
export function eventNameOf(type: string): EventName | undefined {
  const name = TYPE_PATTERN.exec(type)?.[1]
  return name && name in eventSchemas ? (name as EventName) : undefined
}

/** An event whose envelope or data does not fit the catalog; never worth a retry. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError'
}

/** A catalog event after validation. */
export interface ReceivedEvent<N extends EventName = EventName> {
  id: string
  name: N
  type: string
  source: string
  subject?: string
  data: EventData<N>
  traceparent?: string
}

/**
 * Builds a catalog event, validating its data.
 *
 * @example
 * ```ts
 * const event = createEvent('transcript.ready', { function: 'download', subject: videoId, data })
 * ```
 */
export function createEvent<N extends EventName>(
  name: N,
  options: { function: string; subject: string; data: EventData<N>; traceparent?: string; id?: string },
): CloudEvent<EventData<N>> {
  const data = eventSchemas[name].parse(options.data) as EventData<N>
  return new (cloudEvents().CloudEvent)<EventData<N>>({
    // A deterministic id makes a resent event the same event; without one the SDK makes a UUID.
    ...(options.id ? { id: options.id } : {}),
    type: eventType(name),
    source: `/functions/${options.function}`,
    subject: options.subject,
    datacontenttype: 'application/json',
    data,
    ...(options.traceparent ? { traceparent: options.traceparent } : {}),
  })
}

/**
 * A handler's failure that another delivery of the same event cannot mend: answered 422, so the
 * broker sends the event to the dead-letter sink at once instead of retrying it. The stores'
 * errors of that kind (a blob key that breaks the rules, a stored blob that does not parse:
 * InvalidBlobKeyError, CorruptBlobError) are answered the same way.
 */
export class PermanentEventError extends Error {
  override name = 'PermanentEventError'
}

const isJsonType = (contentType: string | undefined) => {
  const type = contentType?.split(';')[0]?.trim().toLowerCase()
  return (
    type === undefined || type === '' || type === 'application/json' || type === 'text/json' || type.endsWith('+json')
  )
}

const REQUIRED = ['id', 'source', 'type', 'specversion'] as const

/** Refuses an envelope the SDK would have mended (it invents a missing id, takes any specversion). */
function checkEnvelope(attributes: Record<string, unknown>): void {
  const missing = REQUIRED.filter(
    (name) => typeof attributes[name] !== 'string' || (attributes[name] as string).trim() === '',
  )
  if (missing.length > 0)
    throw new InvalidEventError(
      `malformed CloudEvent: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} required`,
    )
  if (attributes.specversion !== '1.0')
    throw new InvalidEventError(
      `malformed CloudEvent: specversion ${JSON.stringify(attributes.specversion)} is not supported (only 1.0)`,
    )
}

const parseJson = (text: string, what: string): unknown => {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new InvalidEventError(`malformed CloudEvent: ${what} is not valid JSON (${(error as Error).message})`)
  }
}

/**
 * Reads a CloudEvent 1.0 from an HTTP message, binary or structured mode, strictly: `id`,
 * `source`, `type` and `specversion` 1.0 must be there (the SDK would invent an id, making each
 * retry a new event), and JSON data is parsed as JSON whatever its whitespace. Batches are
 * refused: nothing here sends them.
 *
 * @example
 * ```ts
 * const event = await eventFromRequest(request) // throws InvalidEventError when malformed
 * ```
 */
export async function eventFromRequest(request: Request): Promise<CloudEvent<unknown>> {
  const contentType = request.headers.get('content-type') ?? undefined
  const body = await request.text()
  let attributes: Record<string, unknown>
  if (request.headers.has('ce-specversion')) {
    attributes = {}
    request.headers.forEach((value, key) => {
      if (key.startsWith('ce-') && key.length > 3) attributes[key.slice(3)] = value
    })
    checkEnvelope(attributes)
    if (contentType) attributes.datacontenttype = contentType
    if (body.trim() !== '') attributes.data = isJsonType(contentType) ? parseJson(body, 'its data') : body
  } else if (contentType?.toLowerCase().startsWith('application/cloudevents+json')) {
    const parsed = parseJson(body, 'the structured event')
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new InvalidEventError('malformed CloudEvent: a structured event must be a JSON object')
    attributes = parsed as Record<string, unknown>
    checkEnvelope(attributes)
    if (typeof attributes.data === 'string' && isJsonType(attributes.datacontenttype as string | undefined)) {
      // JSON data sent as a JSON string (some senders do): read as what it holds, leniently only about whitespace.
      const text = attributes.data
      if (/^\s*[[{]/.test(text)) attributes.data = parseJson(text, 'its data')
    }
  } else if (contentType?.toLowerCase().startsWith('application/cloudevents-batch+json')) {
    throw new InvalidEventError('malformed CloudEvent: batched events are not accepted; send each event on its own')
  } else {
    throw new InvalidEventError(
      'malformed CloudEvent: no ce-specversion header (binary mode) and not application/cloudevents+json (structured mode)',
    )
  }
  try {
    return new (cloudEvents().CloudEvent)<unknown>(attributes as never)
  } catch (error) {
    const details = (error as { errors?: unknown }).errors
    throw new InvalidEventError(
      `malformed CloudEvent: ${(error as Error).message}${details ? ` ${JSON.stringify(details)}` : ''}`,
    )
  }
}

/** Validates a parsed CloudEvent's data against the catalog. */
export function validateEvent(event: CloudEvent<unknown>): ReceivedEvent {
  const name = eventNameOf(event.type)
  if (!name) throw new InvalidEventError(`unknown event type ${event.type}`)
  let data: unknown = event.data
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data)
    } catch {
      throw new InvalidEventError(`event ${event.id} of type ${event.type} has data that is not JSON`)
    }
  }
  const result = eventSchemas[name].safeParse(data)
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'data'}: ${issue.message}`)
    throw new InvalidEventError(`event ${event.id} of type ${event.type} has invalid data: ${problems.join('; ')}`)
  }
  return {
    id: event.id,
    name,
    type: event.type,
    source: event.source,
    ...(event.subject ? { subject: event.subject } : {}),
    data: result.data,
    ...(typeof event.traceparent === 'string' ? { traceparent: event.traceparent } : {}),
  }
}

/**
 * The HTTP request that carries an event in binary mode, as the SDK encodes it.
 *
 * @example
 * ```ts
 * await fetch(requestForEvent(sinkUrl, event))
 * ```
 */
export function requestForEvent(
  url: string,
  event: CloudEvent<unknown>,
  mode: 'binary' | 'structured' = 'binary',
): Request {
  const { HTTP } = cloudEvents()
  const message = mode === 'binary' ? HTTP.binary(event) : HTTP.structured(event)
  const headers = new Headers()
  for (const [key, value] of Object.entries(message.headers)) headers.set(key, String(value))
  return new Request(url, { method: 'POST', headers, body: message.body as string })
}

/** Where a function sends the events it produces: `K_SINK` in the cluster, the local broker in one process. */
export interface EventSink {
  send(event: CloudEvent<unknown>): Promise<void>
}

/**
 * A sink that POSTs each event to a URL (the Broker's ingress given as `K_SINK`).
 *
 * @example
 * ```ts
 * const sink = httpSink(process.env.K_SINK!)
 * await sink.send(createEvent('video.indexed', { function: 'indexer', subject: videoId, data }))
 * ```
 */
export function httpSink(url: string, options: { fetch?: typeof fetch; timeoutMs?: number } = {}): EventSink {
  const doFetch = options.fetch ?? fetch
  const timeoutMs = options.timeoutMs ?? 10_000
  return {
    async send(event) {
      const response = await doFetch(requestForEvent(url, event), { signal: AbortSignal.timeout(timeoutMs) })
      if (!response.ok) {
        throw new Error(`the broker at ${url} refused event ${event.id} (${event.type}): HTTP ${response.status}`)
      }
    },
  }
}
