import { HTTP, type CloudEvent } from 'cloudevents'
import { requestForEvent, type EventSink } from '@ytrag/events'
import { readBrokerWiring, type BrokerWiring, type DeliverySpec, type ReadBrokerWiringOptions, type TriggerSpec } from '../manifests/index.ts'

/** The pino-shaped subset the broker logs through. */
export interface BrokerLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface LocalBrokerOptions {
  /** The routes, usually `readBrokerWiring('knative/base')`. */
  wiring: BrokerWiring
  /** Hands a delivery to a Service: in one process, the function's Hono `app.fetch`. */
  deliver: (service: string, request: Request) => Promise<Response>
  /** Default: warnings and errors to the console, nothing for info. */
  logger?: BrokerLogger
  /** Multiplies every backoff delay; tests use a small one. Default 1. */
  backoffScale?: number
  /** How many deliveries may be in `deliver` at once (yt-dlp and ffmpeg are heavy). Default: no limit, as in Knative. */
  concurrency?: number
}

export interface LocalBrokerStats {
  /** Events taken by `send` (and events subscribers replied with). */
  accepted: number
  /** Deliveries a subscriber answered with 2xx. */
  delivered: number
  /** Attempts that failed and were tried again. */
  retried: number
  /** Deliveries that ran out of attempts and the dead-letter sink took. */
  deadLettered: number
  /** Events no Trigger matched. */
  dropped: number
  /** Deliveries that ran out of attempts and were lost: no dead-letter sink, or it failed too. */
  failed: number
  /** Deliveries given up on because the broker was closing. */
  abandoned: number
}

export interface LocalBroker extends EventSink {
  /** Accepts an event and returns; deliveries happen later, as with a real Broker's ingress. */
  send(event: CloudEvent<unknown>): Promise<void>
  /** Resolves once no delivery is queued, in flight or waiting to retry, including those of events sent meanwhile. */
  idle(): Promise<void>
  /** Refuses new events, stops pending retries and waits for deliveries in flight. */
  close(): Promise<void>
  stats(): LocalBrokerStats
}

/**
 * The address a delivery to a Service goes to; it is also what `knativeerrordest` carries,
 * as Knative puts the subscriber's URL there.
 *
 * @example
 * ```ts
 * serviceAddress('download') // 'http://download.local/'
 * ```
 */
export const serviceAddress = (service: string) => `http://${service}.local/`

/** Knative keeps the first 1024 bytes of a failed delivery's response body in `knativeerrordata`. */
const ERROR_DATA_MAX_BYTES = 1024

/**
 * An in-process Knative Broker: routes each event to the subscribers of the Triggers whose
 * type filter matches, retries failures with the Trigger's (or Broker's) delivery spec and
 * sends what is left to the dead-letter sink with Knative's error attributes.
 * Like Knative it retries thrown errors, 5xx, 404, 408, 409 and 429, and goes straight to the
 * dead-letter sink for other statuses; a 2xx reply that is itself a CloudEvent is sent on.
 *
 * @example
 * ```ts
 * const broker = createLocalBroker({
 *   wiring: readBrokerWiring(knativeBaseDir),
 *   deliver: (service, request) => apps[service].fetch(request),
 * })
 * await broker.send(createEvent('ingest.requested', { function: 'api', subject: jobId, data }))
 * await broker.idle() // the whole pipeline has run
 * ```
 */
export function createLocalBroker(options: LocalBrokerOptions): LocalBroker {
  const { wiring, deliver } = options
  const logger = options.logger ?? consoleLogger
  const backoffScale = options.backoffScale ?? 1
  const concurrency = options.concurrency ?? Number.POSITIVE_INFINITY
  if (!(backoffScale >= 0) || !Number.isFinite(backoffScale)) throw new Error(`backoffScale must be a number >= 0, got ${backoffScale}`)
  if (!(concurrency >= 1)) throw new Error(`concurrency must be >= 1, got ${concurrency}`)

  const counts: LocalBrokerStats = { accepted: 0, delivered: 0, retried: 0, deadLettered: 0, dropped: 0, failed: 0, abandoned: 0 }
  let closing = false

  // Quiescence: every delivery (from queued to finished, retries included) is one pending unit.
  let pending = 0
  let idleWaiters: Array<() => void> = []
  function track(work: () => Promise<void>) {
    pending++
    // A macrotask, so even an in-process subscriber starts after the sender has moved on.
    setImmediate(() => {
      work()
        .catch((error: unknown) => logger.error({ err: error }, 'local broker: unexpected error in a delivery'))
        .finally(() => {
          pending--
          if (pending === 0) {
            const waiters = idleWaiters
            idleWaiters = []
            for (const resolve of waiters) resolve()
          }
        })
    })
  }

  // Backoff waits that close() cuts short.
  const sleepers = new Set<() => void>()
  function sleep(ms: number) {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        sleepers.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      sleepers.add(wake)
    })
  }

  // A counting semaphore around `deliver`; a retry waiting out its backoff holds no slot.
  let active = 0
  const slotQueue: Array<() => void> = []
  async function acquire() {
    if (active < concurrency) {
      active++
      return
    }
    await new Promise<void>((resolve) => slotQueue.push(resolve))
  }
  function release() {
    const next = slotQueue.shift()
    if (next) next()
    else active--
  }

  function accept(event: CloudEvent<unknown>) {
    counts.accepted++
    const routes = wiring.triggers.filter((trigger) => trigger.type === undefined || trigger.type === event.type)
    if (routes.length === 0) {
      counts.dropped++
      logger.warn(describe(event), `no Trigger on broker ${wiring.broker.name} takes type ${event.type}; event dropped`)
      return
    }
    for (const trigger of routes) track(() => deliverThroughTrigger(event, trigger))
  }

  async function deliverThroughTrigger(event: CloudEvent<unknown>, trigger: TriggerSpec) {
    const delivery = trigger.delivery ?? wiring.broker
    const address = serviceAddress(trigger.subscriber)
    const context = { ...describe(event), trigger: trigger.name, subscriber: trigger.subscriber }
    for (let attempt = 0; ; attempt++) {
      const outcome = await attemptDelivery(trigger.subscriber, address, event)
      if (outcome.ok) {
        counts.delivered++
        for (const reply of outcome.replies) accept(reply)
        return
      }
      const failure = { ...context, attempt: attempt + 1, status: outcome.status, reason: outcome.reason }
      if (closing) {
        counts.abandoned++
        logger.warn(failure, 'delivery failed while the broker is closing; abandoned')
        return
      }
      if (!outcome.retryable || attempt >= delivery.retry) {
        await deadLetter(event, delivery, address, outcome, failure)
        return
      }
      const delayMs = backoffMs(delivery, attempt) * backoffScale
      counts.retried++
      logger.warn({ ...failure, retryInMs: delayMs }, 'delivery failed; will retry')
      await sleep(delayMs)
      if (closing) {
        counts.abandoned++
        logger.warn(failure, 'retry abandoned: the broker is closing')
        return
      }
    }
  }

  async function deadLetter(event: CloudEvent<unknown>, delivery: DeliverySpec, address: string, failure: Failure, context: object) {
    const sink = delivery.deadLetterSink
    if (!sink) {
      counts.failed++
      logger.error(context, 'delivery failed for good and there is no dead-letter sink; event lost')
      return
    }
    // The same attributes Knative adds, so the dead-letter function reads one format in both shapes.
    const errorData = Buffer.from(failure.reason, 'utf8').subarray(0, ERROR_DATA_MAX_BYTES).toString('base64')
    const dead = event.cloneWith({
      knativeerrordest: address,
      ...(failure.status !== undefined ? { knativeerrorcode: failure.status } : {}),
      ...(errorData ? { knativeerrordata: errorData } : {}),
    })
    const outcome = await attemptDelivery(sink, serviceAddress(sink), dead)
    if (outcome.ok) {
      counts.deadLettered++
      logger.error({ ...context, deadLetterSink: sink }, 'delivery failed for good; sent to the dead-letter sink')
    } else {
      counts.failed++
      logger.error({ ...context, deadLetterSink: sink, deadLetterStatus: outcome.status, deadLetterReason: outcome.reason }, 'the dead-letter sink failed too; event lost')
    }
  }

  async function attemptDelivery(service: string, address: string, event: CloudEvent<unknown>): Promise<Outcome> {
    await acquire()
    try {
      // A new Request per attempt: a body can be read once.
      const response = await deliver(service, requestForEvent(address, event, 'binary'))
      if (response.status >= 200 && response.status < 300) return { ok: true, replies: await readReplies(response, event) }
      const body = await response.text().catch((error: unknown) => `could not read the response body: ${messageOf(error)}`)
      return { ok: false, retryable: isRetryableStatus(response.status), status: response.status, reason: body }
    } catch (error) {
      return { ok: false, retryable: true, reason: messageOf(error) }
    } finally {
      release()
    }
  }

  /** A subscriber may answer with an event, which Knative sends back into the Broker. */
  async function readReplies(response: Response, event: CloudEvent<unknown>): Promise<CloudEvent<unknown>[]> {
    const headers: Record<string, string> = {}
    response.headers.forEach((value, key) => {
      headers[key] = value
    })
    const isEvent = 'ce-specversion' in headers || (headers['content-type'] ?? '').startsWith('application/cloudevents')
    if (!isEvent) {
      await response.body?.cancel()
      return []
    }
    try {
      const parsed = HTTP.toEvent({ headers, body: await response.text() })
      return (Array.isArray(parsed) ? parsed : [parsed]) as CloudEvent<unknown>[]
    } catch (error) {
      logger.warn({ ...describe(event), reason: messageOf(error) }, 'a subscriber replied with a malformed CloudEvent; reply ignored')
      return []
    }
  }

  function idle(): Promise<void> {
    if (pending === 0) return Promise.resolve()
    return new Promise<void>((resolve) => idleWaiters.push(resolve))
  }

  return {
    async send(event) {
      if (closing) throw new Error(`the local broker is closed; event ${event.id} (${event.type}) was not accepted`)
      accept(event)
    },
    idle,
    async close() {
      closing = true
      for (const wake of [...sleepers]) wake()
      await idle()
    },
    stats: () => ({ ...counts }),
  }
}

/**
 * A local broker wired by the Triggers in a kustomization directory.
 *
 * @example
 * ```ts
 * const broker = localBrokerFromManifests(knativeBaseDir, { deliver: (service, request) => apps[service].fetch(request) })
 * ```
 */
export function localBrokerFromManifests(dir: string, options: Omit<LocalBrokerOptions, 'wiring'> & ReadBrokerWiringOptions): LocalBroker {
  const { broker, ...rest } = options
  return createLocalBroker({ ...rest, wiring: readBrokerWiring(dir, broker === undefined ? {} : { broker }) })
}

interface Failure {
  ok: false
  retryable: boolean
  /** The HTTP status, when the subscriber answered at all. */
  status?: number
  /** The response body, or the error's message. */
  reason: string
}
type Outcome = { ok: true; replies: CloudEvent<unknown>[] } | Failure

/** Knative's SelectiveRetry: 5xx and a few transient 4xx; other answers are final. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 404 || status === 408 || status === 409 || status === 429
}

function backoffMs(delivery: DeliverySpec, attempt: number): number {
  return delivery.backoffPolicy === 'exponential' ? delivery.backoffDelayMs * 2 ** attempt : delivery.backoffDelayMs * (attempt + 1)
}

function describe(event: CloudEvent<unknown>) {
  return { eventId: event.id, type: event.type, ...(event.subject ? { subject: event.subject } : {}) }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

const consoleLogger: BrokerLogger = {
  info() {},
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
}
