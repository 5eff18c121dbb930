import { HTTP, type CloudEvent } from 'cloudevents'
import pLimit, { type LimitFunction } from 'p-limit'
import { requestForEvent, type EventSink } from '@ytrag/events'
import {
  MemoryDeliveryQueue,
  type DeliveryQueue,
  type NewDelivery,
  type QueuedDelivery,
} from '../delivery-queue/index.ts'
import type { BrokerWiring, DeliverySpec } from '../manifests/index.ts'

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
  /**
   * How many deliveries one subscriber takes at once; beyond it deliveries wait their turn, first
   * sent first: sixteen videos of a playlist are downloaded a few at a time and the first ones
   * are indexed early, instead of all sixteen sharing the machine until they all end together.
   * (Not the Services' containerConcurrency: that is one pod's share of a cluster that runs
   * several, where this one process is all there is.) Default: no limit.
   */
  subscriberConcurrency?: number
  /**
   * Where pending deliveries are kept; the broker closes it on `close()`. A `SqliteDeliveryQueue`
   * makes the broker durable: what it holds at creation (left by a previous process) is delivered
   * again. Default: a `MemoryDeliveryQueue`.
   */
  queue?: DeliveryQueue
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
  /** Deliveries given up on because the broker was closing; a durable queue keeps them for the next start. */
  abandoned: number
  /** Deliveries not queued because the same event (source and id) was already queued for that Trigger. */
  duplicates: number
  /** Deliveries a previous process left in the queue, taken up when this broker was created. */
  recovered: number
}

export interface LocalBroker extends EventSink {
  /** Queues an event's deliveries (on disk, with a durable queue) and returns; deliveries happen later, as with a real Broker's ingress. */
  send(event: CloudEvent<unknown>): Promise<void>
  /** Resolves once no delivery is queued, in flight or waiting to retry, including those of events sent meanwhile. */
  idle(): Promise<void>
  /** Refuses new events, stops pending retries, waits for deliveries in flight and closes the queue. */
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
 * Every delivery is in the `queue` from `send` until it is over (2xx, dead-lettered or lost), and
 * every failed attempt is recorded there, so with a `SqliteDeliveryQueue` a restart neither loses
 * a delivery nor gives it its retries back.
 *
 * @example
 * ```ts
 * const broker = createLocalBroker({
 *   wiring: readBrokerWiring(knativeBaseDir),
 *   deliver: (service, request) => apps[service].fetch(request),
 *   queue: new SqliteDeliveryQueue({ path: '.youtube-rag/broker.sqlite' }),
 * })
 * await broker.send(createEvent('ingest.requested', { function: 'api', subject: jobId, data }))
 * await broker.idle() // the whole pipeline has run
 * ```
 */
export function createLocalBroker(options: LocalBrokerOptions): LocalBroker {
  const { wiring, deliver } = options
  const logger = options.logger ?? consoleLogger
  const backoffScale = options.backoffScale ?? 1
  const defaultConcurrency = options.subscriberConcurrency ?? Number.POSITIVE_INFINITY
  if (!(backoffScale >= 0) || !Number.isFinite(backoffScale))
    throw new Error(`backoffScale must be a number >= 0, got ${backoffScale}`)
  if (!(defaultConcurrency >= 1)) throw new Error(`subscriberConcurrency must be >= 1, got ${defaultConcurrency}`)
  const queue = options.queue ?? new MemoryDeliveryQueue()
  const triggers = new Map(wiring.triggers.map((trigger) => [trigger.name, trigger]))

  const counts: LocalBrokerStats = {
    accepted: 0,
    delivered: 0,
    retried: 0,
    deadLettered: 0,
    dropped: 0,
    failed: 0,
    abandoned: 0,
    duplicates: 0,
    recovered: 0,
  }
  let closing = false
  let closed: Promise<void> | undefined

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

  // One limit per subscriber around `deliver`, made on its first delivery; a retry waiting out
  // its backoff holds no slot.
  const limits = new Map<string, LimitFunction>()
  const limitOf = (service: string) => {
    let limit = limits.get(service)
    if (!limit) {
      limit = pLimit(defaultConcurrency)
      limits.set(service, limit)
    }
    return limit
  }

  /** The deliveries an accepted event owes: one per Trigger that takes its type. */
  function route(event: CloudEvent<unknown>): NewDelivery[] {
    counts.accepted++
    const routes = wiring.triggers.filter((trigger) => trigger.type === undefined || trigger.type === event.type)
    if (routes.length === 0) {
      counts.dropped++
      logger.warn(describe(event), `no Trigger on broker ${wiring.broker.name} takes type ${event.type}; event dropped`)
    }
    return routes.map((trigger) => ({ trigger: trigger.name, event }))
  }

  function start(wanted: number, queued: QueuedDelivery[]) {
    counts.duplicates += wanted - queued.length
    for (const delivery of queued) track(() => run(delivery))
  }

  async function run(queued: QueuedDelivery) {
    const { seq, event } = queued
    const trigger = triggers.get(queued.trigger)
    // Only a delivery recovered from a previous process can name a Trigger the wiring lacks: it stays queued.
    if (!trigger) return
    const delivery = trigger.delivery ?? wiring.broker
    const address = serviceAddress(trigger.subscriber)
    const context = { ...describe(event), trigger: trigger.name, subscriber: trigger.subscriber }
    if (queued.stage === 'dead-letter') {
      await sendToDeadLetterSink(seq, event, delivery, { ...context, attempt: queued.attempts })
      return
    }
    let attempts = queued.attempts
    let waitMs = queued.nextAttemptAt - Date.now()
    for (;;) {
      if (waitMs > 0) {
        await sleep(waitMs)
        if (closing) {
          counts.abandoned++
          logger.warn({ ...context, attempt: attempts }, 'retry abandoned: the broker is closing')
          return
        }
      }
      const outcome = await attemptDelivery(trigger.subscriber, address, event)
      if (outcome.ok) {
        const replies = outcome.replies.flatMap(route)
        start(replies.length, queue.complete(seq, replies))
        counts.delivered++
        return
      }
      attempts++
      const failure = { ...context, attempt: attempts, status: outcome.status, reason: outcome.reason }
      if (!outcome.retryable || attempts > delivery.retry) {
        await deadLetter(seq, event, delivery, address, outcome, failure)
        return
      }
      const delayMs = backoffMs(delivery, attempts - 1) * backoffScale
      // On disk before the wait: a restart neither forgets this attempt nor retries sooner.
      queue.retryLater(seq, attempts, Date.now() + delayMs)
      if (closing) {
        counts.abandoned++
        logger.warn(failure, 'delivery failed while the broker is closing; abandoned')
        return
      }
      counts.retried++
      logger.warn({ ...failure, retryInMs: delayMs }, 'delivery failed; will retry')
      waitMs = delayMs
    }
  }

  async function deadLetter(
    seq: number,
    event: CloudEvent<unknown>,
    delivery: DeliverySpec,
    address: string,
    failure: Failure,
    context: object,
  ) {
    if (!delivery.deadLetterSink) {
      queue.remove(seq)
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
    // From here on a restart hands the event to the sink, not to the subscriber again.
    queue.toDeadLetter(seq, dead)
    if (closing) {
      counts.abandoned++
      logger.warn(
        context,
        'delivery failed for good while the broker is closing; the dead-letter sink gets it at the next start',
      )
      return
    }
    await sendToDeadLetterSink(seq, dead, delivery, context)
  }

  async function sendToDeadLetterSink(seq: number, dead: CloudEvent<unknown>, delivery: DeliverySpec, context: object) {
    const sink = delivery.deadLetterSink
    const outcome = sink === undefined ? undefined : await attemptDelivery(sink, serviceAddress(sink), dead)
    // The sink is tried once, as before; either way the delivery is over.
    queue.remove(seq)
    if (outcome?.ok) {
      counts.deadLettered++
      logger.error({ ...context, deadLetterSink: sink }, 'delivery failed for good; sent to the dead-letter sink')
    } else {
      counts.failed++
      if (outcome === undefined)
        logger.error(context, 'delivery failed for good and there is no dead-letter sink any more; event lost')
      else
        logger.error(
          { ...context, deadLetterSink: sink, deadLetterStatus: outcome.status, deadLetterReason: outcome.reason },
          'the dead-letter sink failed too; event lost',
        )
    }
  }

  function attemptDelivery(service: string, address: string, event: CloudEvent<unknown>): Promise<Outcome> {
    return limitOf(service)(() => attemptNow(service, address, event))
  }

  async function attemptNow(service: string, address: string, event: CloudEvent<unknown>): Promise<Outcome> {
    // As Knative's queue-proxy does past the Service's timeoutSeconds: the attempt is over (and
    // retried) and its slot free, whatever the handler still does; `deliver` gets the signal.
    const timeoutSeconds = wiring.timeoutSeconds?.[service]
    const signal = timeoutSeconds === undefined ? undefined : AbortSignal.timeout(timeoutSeconds * 1000)
    try {
      // A new Request per attempt: a body can be read once.
      const request = requestForEvent(address, event, 'binary')
      const answer = deliver(service, signal ? new Request(request, { signal }) : request)
      const response = signal ? await Promise.race([answer, rejectOnAbort(signal)]) : await answer
      if (response.status >= 200 && response.status < 300)
        return { ok: true, replies: await readReplies(response, event) }
      const body = await response
        .text()
        .catch((error: unknown) => `could not read the response body: ${messageOf(error)}`)
      return { ok: false, retryable: isRetryableStatus(response.status), status: response.status, reason: body }
    } catch (error) {
      if (signal?.aborted)
        return {
          ok: false,
          retryable: true,
          reason: `${service} did not answer within its timeoutSeconds (${timeoutSeconds} s)`,
        }
      return { ok: false, retryable: true, reason: messageOf(error) }
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
      logger.warn(
        { ...describe(event), reason: messageOf(error) },
        'a subscriber replied with a malformed CloudEvent; reply ignored',
      )
      return []
    }
  }

  function idle(): Promise<void> {
    if (pending === 0) return Promise.resolve()
    return new Promise<void>((resolve) => idleWaiters.push(resolve))
  }

  // What a previous process left: delivered from where it stopped (attempts, next attempt time).
  const leftovers = queue.list()
  const orphans = leftovers.filter((queued) => !triggers.has(queued.trigger))
  const recovered = leftovers.filter((queued) => triggers.has(queued.trigger))
  counts.recovered = recovered.length
  if (recovered.length > 0)
    logger.info({ deliveries: recovered.length }, 'delivering again what a previous process left in the queue')
  if (orphans.length > 0) {
    const names = [...new Set(orphans.map((queued) => queued.trigger))]
    logger.warn(
      { deliveries: orphans.length, triggers: names },
      'queued deliveries name Triggers the manifests no longer have; kept in the queue, not delivered',
    )
  }
  start(recovered.length, recovered)

  return {
    async send(event) {
      if (closing) throw new Error(`the local broker is closed; event ${event.id} (${event.type}) was not accepted`)
      const deliveries = route(event)
      // Written (to disk, with a durable queue) before send resolves: an accepted event survives a crash.
      start(deliveries.length, queue.add(deliveries))
    },
    idle,
    close() {
      closed ??= (async () => {
        closing = true
        for (const wake of [...sleepers]) wake()
        await idle()
        // Whatever is still queued (abandoned retries) stays there for the next start.
        queue.close()
      })()
      return closed
    },
    stats: () => ({ ...counts }),
  }
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
  return delivery.backoffPolicy === 'exponential'
    ? delivery.backoffDelayMs * 2 ** attempt
    : delivery.backoffDelayMs * (attempt + 1)
}

function describe(event: CloudEvent<unknown>) {
  return { eventId: event.id, type: event.type, ...(event.subject ? { subject: event.subject } : {}) }
}

/** Rejects when `signal` aborts; never resolves. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

const consoleLogger: BrokerLogger = {
  info() {},
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
}
