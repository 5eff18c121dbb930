import type { Config } from '@ytrag/config'
import {
  createEvent,
  eventFromRequest,
  eventNameOf,
  InvalidEventError,
  PermanentEventError,
  PING_EVENT_TYPE,
  validateEvent,
  type EventData,
  type EventName,
  type EventSink,
  type ReceivedEvent,
} from '@ytrag/events'
import type { Logger } from '@ytrag/logging'
import { setProcessLimit } from '@ytrag/processes'
import type { Providers } from '@ytrag/providers'
import { apiKeyAuth, rateLimit, type RateLimiter } from '@ytrag/rate-limit'
import { CorruptBlobError, InvalidBlobKeyError, type StoreProviders, type Stores } from '@ytrag/stores'
import type { CloudEvent } from 'cloudevents'
import { Hono, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { errorBody } from '../errors/index.ts'
import { localGuard, type LocalGuardOptions } from '../guard/index.ts'
import { functionMetrics, type BrokerCounts, type CounterDeclaration } from '../metrics/index.ts'
import { currentScope, runInScope, traceIdOf } from '../scope/index.ts'
import { untraced, type FunctionTracer } from '../tracing/index.ts'

/** What a handler gets besides its event: the stores, the providers, the config, a logger and a way to emit. */
export interface FunctionContext {
  config: Config
  stores: Stores
  /** The model providers configured; each absent when not (captions only, BM25, extractive answers). */
  providers: Providers
  logger: Logger
  /**
   * Adds `value` to a Prometheus counter of this function, shown at `/metrics`, with labels of
   * a bounded set of values (the same label names at every use).
   *
   * @example
   * count('ytrag_transcribed_seconds_total', 'Seconds of audio transcribed', 1187.4)
   * count('ytrag_channel_syncs_total', 'Channel syncs by outcome', 1, { outcome: 'ok' })
   */
  count(name: string, help: string, value?: number, labels?: Record<string, string>): void
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
  /** Counters the function counts (`context.count`), shown from the start at 0 for each listed label value. */
  counters?: CounterDeclaration[]
  /** Serves the public API: its `/v1/*` routes are rate limited when a limiter is given. */
  publicApi?: boolean
  /** Extra HTTP routes (the public API). */
  routes?: (app: Hono, context: Omit<FunctionContext, 'emit'> & { emit: FunctionContext['emit'] }) => void
  /**
   * The function's own readiness checks, made once when the app is built (discover and download:
   * yt-dlp there and recent enough). Each starts what it needs then and answers probes from it.
   */
  readiness?: (context: { config: Config; logger: Logger }) => Record<string, ReadinessCheck>
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
  /** Local mode: answer only the Host names served and refuse cross-site state changes (see `localGuard`). */
  localGuard?: LocalGuardOptions
  /** More readiness checks, by name (local mode: yt-dlp, the storage directory's free space). */
  readiness?: Record<string, ReadinessCheck>
  /**
   * The api in the cluster: Knative's Triggers can only deliver to the Service's one port, so
   * POST / there is answered for requests addressed to a cluster-local name
   * (`api.<namespace>.svc.cluster.local`), which Knative's external gateway never routes.
   */
  eventsOnClusterHost?: boolean
  /** The local broker's counts, shown on this function's `/metrics` (local mode: the dead-letter function). */
  brokerCounts?: () => BrokerCounts
  /** Where the spans of its requests and events go (`openTracing(…).tracerFor(name)`); default: none exported. */
  tracer?: FunctionTracer
}

/**
 * One thing readiness checks: `ping` throws, with a message that says what to do, when it is not
 * ready (503); it gives `{ degraded }` when it works but not fully (200, the reason in the body:
 * a yt-dlp below YOUTUBE_RAG__YTDLP__MIN_VERSION with BELOW_FLOOR=warn).
 */
export interface ReadinessCheck {
  label: string
  // biome-ignore lint/suspicious/noConfusingVoidType: the stores' own `ping(): Promise<void>` (healthy) fit here as they are
  ping(): Promise<void | { degraded: string }>
}

/**
 * A function's two HTTP surfaces. `app` is its port (Knative's, or SERVER__PORT for the local
 * api). `internal` is a port only the cluster (or this machine) reaches: `/metrics`, health,
 * and `POST /`. A `publicApi` function's `app` serves neither `/metrics` nor `POST /`.
 */
export interface FunctionApps {
  app: Hono
  internal: Hono
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

/** The job and video an event is about, for its log lines (Loki finds every line of a job by them). */
function idsOf(data: unknown): { jobId?: string; videoId?: string } {
  if (typeof data !== 'object' || data === null) return {}
  const { jobId, videoId } = data as Record<string, unknown>
  return { ...(typeof jobId === 'string' ? { jobId } : {}), ...(typeof videoId === 'string' ? { videoId } : {}) }
}

/** Names only the cluster's own DNS resolves, which Knative's external gateway does not route. */
const isClusterLocalHost = (host: string | undefined) => {
  const name = host?.toLowerCase().replace(/:\d+$/, '')
  return name !== undefined && (name.endsWith('.svc.cluster.local') || name.endsWith('.svc'))
}

/**
 * Builds a function's Hono app (the `app` of `createFunctionApps`): `POST /` takes CloudEvents
 * (binary or structured mode), `/health/live`, `/health/ready` (pings the stores), `/metrics`,
 * plus the function's routes. The answers to an event tell the broker whether to retry:
 * 202 done; 400 a malformed or invalid event, 413 one over EVENTS__MAX_BODY_BYTES, 422 one a
 * handler cannot ever handle (PermanentEventError, a bad blob key, a stored blob that does not
 * parse), none retried; 500 a handler's other errors, retried.
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
  return createFunctionApps(definition, dependencies).app
}

/**
 * Builds a function's two apps (see `FunctionApps`): serve `app` on the function's port and
 * `internal` on the internal one.
 *
 * @example
 * ```ts
 * const { app, internal } = createFunctionApps(api, dependencies)
 * ```
 */
export function createFunctionApps(definition: FunctionDefinition, dependencies: FunctionDependencies): FunctionApps {
  const { config, stores, sink, providers = {}, storeProviders, rateLimiter, tracer = untraced } = dependencies
  const baseLogger = dependencies.logger
  // One cap for the whole process (every function `npm start` runs in it shares it).
  setProcessLimit(config.tools.maxProcesses)
  const limiter = definition.publicApi ? rateLimiter : undefined
  // Decided once: what readiness checks, under the names an operator looks for.
  const storeNames = { documents: true, chunks: true, blobs: true, rateLimiter: true }
  const readinessChecks: Record<string, ReadinessCheck> = {
    documents: { label: storeProviders?.documents ?? 'documents', ping: () => stores.documents.ping() },
    chunks: { label: storeProviders?.chunks ?? 'chunks', ping: () => stores.chunks.ping() },
    blobs: { label: storeProviders?.blobs ?? 'blobs', ping: () => stores.blobs.ping() },
    ...(limiter ? { rateLimiter: { label: config.rateLimit.provider, ping: () => limiter.ping() } } : {}),
    ...definition.readiness?.({ config, logger: baseLogger }),
    ...dependencies.readiness,
  }
  const metrics = functionMetrics(definition.name, {
    documents: stores.documents,
    telemetry: config.telemetry,
    ...(dependencies.brokerCounts ? { brokerCounts: dependencies.brokerCounts } : {}),
    ...(definition.counters ? { counters: definition.counters } : {}),
  })
  const accepted = new Set(Object.keys(definition.on ?? {}))

  // Searches are timed here, where the backend is known, whoever calls them (the api's routes).
  const searchBackend = storeProviders?.chunks ?? 'chunks'
  const timedStores: Stores = {
    ...stores,
    chunks: new Proxy(stores.chunks, {
      get(target, key) {
        const value = Reflect.get(target, key, target)
        if (key !== 'search') return typeof value === 'function' ? value.bind(target) : value
        return async (query: Parameters<Stores['chunks']['search']>[0]) => {
          const started = performance.now()
          const hits = await target.search(query)
          metrics.observeSearch(
            searchBackend,
            query.embedding ? 'hybrid' : 'bm25',
            (performance.now() - started) / 1000,
          )
          return hits
        }
      },
    }),
  }

  const contextFor = (logger: Logger): FunctionContext => ({
    config,
    stores: timedStores,
    providers,
    logger,
    count: metrics.count,
    async emit(name, subject, data, options = {}) {
      // The trace of the request or event being handled goes on with the event.
      const traceparent = currentScope()?.traceparent
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

  // One metric sample, one log line and one server span per request, labelled with the matched
  // route pattern (bounded), never the raw path. The request runs in a scope of its own: a span
  // continuing the trace of its `traceparent` header, or starting one. Probes and scrapes (every
  // few seconds) get no span; nor does an event's delivery, whose consumer span (takeEvent)
  // continues the event's own trace: a server span around it would start a trace of its own
  // whenever the broker sends no `traceparent` header.
  const observe: MiddlewareHandler = async (c, next) => {
    const started = performance.now()
    const path = c.req.path
    const spanned = !(path.startsWith('/health/') || path === '/metrics' || (path === '/' && c.req.method === 'POST'))
    const span = (spanned ? tracer : untraced).startSpan(c.req.method, {
      kind: 'server',
      parent: c.req.header('traceparent'),
    })
    const traceparent = span.traceparent
    await runInScope({ metrics, traceparent, tracer }, next)
    const seconds = (performance.now() - started) / 1000
    const route = c.req.routePath
    const status = c.res.status
    span.end({
      // OpenTelemetry's HTTP conventions name a server span `{method} {route}`.
      name: `${c.req.method} ${route}`,
      attributes: { 'http.request.method': c.req.method, 'http.route': route, 'http.response.status_code': status },
      ...(status >= 500 ? { error: `status ${status}` } : {}),
    })
    metrics.observeHttp(c.req.method, route, status, seconds)
    const params = c.req.param() as Record<string, string | undefined>
    const line = {
      method: c.req.method,
      route,
      status,
      durationMs: Math.round(seconds * 1e4) / 10,
      traceId: traceIdOf(traceparent),
      ...(params.jobId ? { jobId: params.jobId } : {}),
      ...(params.videoId ? { videoId: params.videoId } : {}),
    }
    // Probes and scrapes come every few seconds: logged only at debug.
    if (route.startsWith('/health/') || route === '/metrics') baseLogger.debug(line, 'http request')
    else baseLogger.info(line, 'http request')
  }

  const live = () => json(200, { status: 'live', function: definition.name })

  const ready = async () => {
    const failing: Record<string, string> = {}
    const degraded: Record<string, string> = {}
    await Promise.all(
      Object.entries(readinessChecks).map(async ([name, check]) => {
        try {
          const answer = await check.ping()
          if (answer) degraded[name] = `${check.label}: ${answer.degraded}`
        } catch (error) {
          failing[name] = `${check.label}: ${(error as Error).message}`
        }
      }),
    )
    const names = Object.keys(failing)
    if (names.length > 0) {
      const message = `not ready: ${names.map((name) => (name in storeNames ? `${name} store (${readinessChecks[name]!.label}) is down` : failing[name])).join('; ')}`
      baseLogger.warn({ failing }, message)
      return json(503, {
        status: 'unavailable',
        function: definition.name,
        message,
        failing,
        ...(Object.keys(degraded).length ? { degraded } : {}),
      })
    }
    // Degraded is still ready (200): Knative keeps sending work, which may well succeed (another
    // site, a video the old yt-dlp still reads); the body says what to fix. Logged at start-up,
    // not per probe.
    if (Object.keys(degraded).length > 0) {
      return json(200, {
        status: 'degraded',
        function: definition.name,
        message: `degraded: ${Object.values(degraded).join('; ')}`,
        degraded,
      })
    }
    return json(200, { status: 'ready', function: definition.name })
  }

  const metricsPage = async () =>
    new Response(await metrics.scrape(), { headers: { 'content-type': metrics.registry.contentType } })

  // Events carry references (blob keys, ids), never payloads: anything larger is not one of ours.
  const eventBodyLimit = bodyLimit({
    maxSize: config.events.maxBodyBytes,
    onError: () => {
      metrics.countEvent('unknown', 'malformed')
      return json(
        413,
        errorBody(
          'event_too_large',
          `a CloudEvent here is at most ${config.events.maxBodyBytes} bytes (EVENTS__MAX_BODY_BYTES)`,
        ),
      )
    },
  })

  const takeEvent = async (request: Request) => {
    let cloudEvent: CloudEvent<unknown>
    try {
      cloudEvent = await eventFromRequest(request)
    } catch (error) {
      metrics.countEvent('unknown', 'malformed')
      baseLogger.warn({ err: error }, 'refused a malformed CloudEvent')
      return json(400, errorBody('malformed_event', (error as Error).message))
    }
    // One consumer span per event, continuing the event's own trace (from its sender's span),
    // else the delivery's `traceparent` header; an event with neither starts a trace.
    const ids = idsOf(cloudEvent.data)
    const span = tracer.startSpan(cloudEvent.type, {
      kind: 'consumer',
      parent:
        typeof cloudEvent.traceparent === 'string'
          ? cloudEvent.traceparent
          : (request.headers.get('traceparent') ?? undefined),
      attributes: {
        'messaging.operation.type': 'process',
        'cloudevents.event_id': cloudEvent.id,
        'cloudevents.event_type': cloudEvent.type,
        'cloudevents.event_source': cloudEvent.source,
        ...(cloudEvent.subject ? { 'cloudevents.event_subject': cloudEvent.subject } : {}),
        ...(ids.jobId ? { 'ytrag.job_id': ids.jobId } : {}),
        ...(ids.videoId ? { 'ytrag.video_id': ids.videoId } : {}),
      },
    })
    const traceparent = span.traceparent
    const logger = baseLogger.child({
      eventId: cloudEvent.id,
      type: cloudEvent.type,
      subject: cloudEvent.subject,
      ...ids,
      traceId: traceIdOf(traceparent),
    })
    const response = await runInScope({ metrics, traceparent, tracer }, () => handleEvent(cloudEvent, logger))
    span.end(response.status >= 300 ? { error: `status ${response.status}` } : {})
    return response
  }

  const handleEvent = async (cloudEvent: CloudEvent<unknown>, logger: Logger) => {
    const context = contextFor(logger)
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
      // Another delivery would fail the same way: 422 is not retried, the event goes to dead-letter now.
      if (
        error instanceof PermanentEventError ||
        error instanceof InvalidBlobKeyError ||
        error instanceof CorruptBlobError
      ) {
        timer('invalid')
        logger.warn({ err: error }, 'event cannot be handled; not worth a retry')
        return json(422, errorBody('unprocessable_event', error.message))
      }
      timer('error')
      logger.error({ err: error }, 'handler failed; the broker will retry')
      return json(500, errorBody('handler_failed', (error as Error).message))
    }
  }

  const guard = dependencies.localGuard ? localGuard(dependencies.localGuard) : undefined

  const internal = new Hono()
  if (guard) internal.use(guard)
  internal.use(observe)
  internal.get('/health/live', live)
  internal.get('/health/ready', ready)
  internal.get('/metrics', metricsPage)
  internal.post('/', eventBodyLimit, (c) => takeEvent(c.req.raw))

  const app = new Hono()
  if (guard) app.use(guard)
  app.use(observe)
  app.get('/health/live', live)
  app.get('/health/ready', ready)

  if (!definition.publicApi) {
    // Cluster-local functions: Knative delivers to this port, and Prometheus may scrape it too.
    app.get('/metrics', metricsPage)
    app.post('/', eventBodyLimit, (c) => takeEvent(c.req.raw))
  } else if (dependencies.eventsOnClusterHost) {
    app.post('/', eventBodyLimit, async (c, next) =>
      isClusterLocalHost(new URL(c.req.url).host) ? takeEvent(c.req.raw) : next(),
    )
  }

  if (definition.publicApi) {
    const keys = config.api.keys
    // The key is checked before the limiter counts: an unknown key never gets a bucket of its own.
    if (keys.length > 0) app.use('/v1/*', apiKeyAuth({ hashes: keys }))
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
    app.use(
      '/v1/*',
      bodyLimit({
        maxSize: config.api.maxBodyBytes,
        onError: (c) =>
          c.json(
            errorBody(
              'body_too_large',
              `the request body is over ${config.api.maxBodyBytes} bytes (API__MAX_BODY_BYTES)`,
            ),
            413,
          ),
      }),
    )
  }

  definition.routes?.(app, contextFor(baseLogger))

  return { app, internal }
}
