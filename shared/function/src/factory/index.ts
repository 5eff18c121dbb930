import type { Config } from '@ytrag/config'
import {
  createEvent,
  eventFromRequest,
  eventNameOf,
  InvalidEventError,
  PING_EVENT_TYPE,
  validateEvent,
  type EventData,
  type EventName,
  type EventSink,
  type ReceivedEvent,
} from '@ytrag/events'
import type { Logger } from '@ytrag/logging'
import type { Providers } from '@ytrag/providers'
import { rateLimit, type RateLimiter } from '@ytrag/rate-limit'
import type { StoreProviders, Stores } from '@ytrag/stores'
import type { CloudEvent } from 'cloudevents'
import { Hono } from 'hono'
import { functionMetrics } from '../metrics/index.ts'

/** What a handler gets besides its event: the stores, the providers, the config, a logger and a way to emit. */
export interface FunctionContext {
  config: Config
  stores: Stores
  /** The model providers configured; each absent when not (captions only, BM25, extractive answers). */
  providers: Providers
  logger: Logger
  /**
   * Adds `value` to a Prometheus counter of this function, shown at `/metrics`.
   *
   * @example
   * count('ytrag_transcribed_seconds_total', 'Seconds of audio transcribed', 1187.4)
   */
  count(name: string, help: string, value?: number): void
  /**
   * Sends an event to the broker (`K_SINK`), as this function, carrying the trace along. An `id`
   * makes the event deterministic: sending it again is the same event, which consumers take once.
   */
  emit<N extends EventName>(name: N, subject: string, data: EventData<N>, options?: { id?: string }): Promise<void>
}

export type EventHandler<N extends EventName> = (event: ReceivedEvent<N>, context: FunctionContext) => Promise<void>

export interface FunctionDefinition {
  /** The function's name: its folder, its image, its Knative Service, its CloudEvents source. */
  name: string
  /** Handlers of catalog events, by name; data is validated before a handler sees it. */
  on?: { [N in EventName]?: EventHandler<N> }
  /** Takes the Knative PingSource's events (`dev.knative.sources.ping`): the schedule's ticks. */
  onPing?: (event: CloudEvent<unknown>, context: FunctionContext) => Promise<void>
  /** Takes any event unvalidated (the dead-letter sink gets whatever failed, even malformed data). */
  onAnyEvent?: (event: CloudEvent<unknown>, context: FunctionContext) => Promise<void>
  /** Serves the public API: its `/v1/*` routes are rate limited when a limiter is given. */
  publicApi?: boolean
  /** Extra HTTP routes (the public API). */
  routes?: (app: Hono, context: Omit<FunctionContext, 'emit'> & { emit: FunctionContext['emit'] }) => void
}

export interface FunctionDependencies {
  config: Config
  stores: Stores
  sink: EventSink
  logger: Logger
  /** Default: none. */
  providers?: Providers
  /** Named in the readiness answer, so a store that is down is found at once. */
  storeProviders?: StoreProviders
  /** Limits `/v1/*` of a `publicApi` function; pinged by readiness. */
  rateLimiter?: RateLimiter
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

const errorBody = (code: string, message: string) => ({ error: { code, message } })

/**
 * Builds a function's Hono app: `POST /` takes CloudEvents (binary or structured mode),
 * `/health/live`, `/health/ready` (pings the stores), `/metrics`, plus the function's routes.
 * A handler's error answers 500 so the broker retries; a malformed event answers 400.
 *
 * @example
 * ```ts
 * const app = createFunctionApp(
 *   { name: 'indexer', on: { 'transcript.ready': async (event, ctx) => { … } } },
 *   { config, stores, sink, logger },
 * )
 * ```
 */
export function createFunctionApp(definition: FunctionDefinition, dependencies: FunctionDependencies): Hono {
  const { config, stores, sink, providers = {}, storeProviders, rateLimiter } = dependencies
  const baseLogger = dependencies.logger
  const limiter = definition.publicApi ? rateLimiter : undefined
  // Decided once: what readiness checks, under the names an operator looks for.
  const readinessChecks: Record<string, { label: string; ping(): Promise<void> }> = {
    documents: { label: storeProviders?.documents ?? 'documents', ping: () => stores.documents.ping() },
    chunks: { label: storeProviders?.chunks ?? 'chunks', ping: () => stores.chunks.ping() },
    blobs: { label: storeProviders?.blobs ?? 'blobs', ping: () => stores.blobs.ping() },
    ...(limiter ? { rateLimiter: { label: config.rateLimit.provider, ping: () => limiter.ping() } } : {}),
  }
  const metrics = functionMetrics(definition.name)
  const accepted = new Set(Object.keys(definition.on ?? {}))

  const contextFor = (logger: Logger, traceparent?: string): FunctionContext => ({
    config,
    stores,
    providers,
    logger,
    count: metrics.count,
    async emit(name, subject, data, options = {}) {
      const event = createEvent(name, {
        function: definition.name,
        subject,
        data,
        ...(traceparent ? { traceparent } : {}),
        ...(options.id ? { id: options.id } : {}),
      })
      await sink.send(event)
      logger.debug({ emitted: event.type, emittedId: event.id, subject }, 'emitted')
    },
  })

  const app = new Hono()

  app.use(async (c, next) => {
    const started = performance.now()
    await next()
    metrics.observeHttp(c.req.method, c.req.routePath, c.res.status, (performance.now() - started) / 1000)
  })

  app.get('/health/live', () => json(200, { status: 'live', function: definition.name }))

  app.get('/health/ready', async () => {
    const failing: Record<string, string> = {}
    await Promise.all(
      Object.entries(readinessChecks).map(async ([name, check]) => {
        try {
          await check.ping()
        } catch (error) {
          failing[name] = `${check.label}: ${(error as Error).message}`
        }
      }),
    )
    const names = Object.keys(failing)
    if (names.length > 0) {
      const message = `not ready: ${names.map((name) => `${name} store (${readinessChecks[name]!.label}) is down`).join('; ')}`
      baseLogger.warn({ failing }, message)
      return json(503, { status: 'unavailable', function: definition.name, message, failing })
    }
    return json(200, { status: 'ready', function: definition.name })
  })

  app.get('/metrics', async () => new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } }))

  app.post('/', async (c) => {
    let cloudEvent: CloudEvent<unknown>
    try {
      cloudEvent = await eventFromRequest(c.req.raw)
    } catch (error) {
      metrics.countEvent('unknown', 'malformed')
      baseLogger.warn({ err: error }, 'refused a malformed CloudEvent')
      return json(400, errorBody('malformed_event', (error as Error).message))
    }
    const traceparent = typeof cloudEvent.traceparent === 'string' ? cloudEvent.traceparent : undefined
    const logger = baseLogger.child({
      eventId: cloudEvent.id,
      type: cloudEvent.type,
      subject: cloudEvent.subject,
      ...(traceparent ? { traceparent } : {}),
    })
    const context = contextFor(logger, traceparent)
    const timer = metrics.startEventTimer(cloudEvent.type)
    try {
      if (definition.onAnyEvent) {
        await definition.onAnyEvent(cloudEvent, context)
      } else if (definition.onPing && cloudEvent.type === PING_EVENT_TYPE) {
        await definition.onPing(cloudEvent, context)
      } else {
        const name = eventNameOf(cloudEvent.type)
        if (!name || !accepted.has(name)) {
          throw new InvalidEventError(`${definition.name} does not take events of type ${cloudEvent.type}`)
        }
        const event = validateEvent(cloudEvent)
        const handler = definition.on?.[name] as EventHandler<EventName>
        await handler(event, context)
      }
      timer('ok')
      logger.info('handled')
      return new Response(null, { status: 202 })
    } catch (error) {
      if (error instanceof InvalidEventError) {
        timer('invalid')
        logger.warn({ err: error }, 'refused an invalid event')
        return json(400, errorBody('invalid_event', error.message))
      }
      timer('error')
      logger.error({ err: error }, 'handler failed; the broker will retry')
      return json(500, errorBody('handler_failed', (error as Error).message))
    }
  })

  if (limiter) {
    app.use(
      '/v1/*',
      rateLimit({
        limiter,
        trustProxy: config.rateLimit.trustProxy,
        onError: (error) => baseLogger.warn({ err: error }, 'rate limiter unavailable; request let through'),
      }),
    )
  }

  definition.routes?.(app, contextFor(baseLogger))

  return app
}
