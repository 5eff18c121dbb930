import { isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { api } from '@ytrag/api'
import {
  createLocalBroker,
  readBrokerWiring,
  SqliteDeliveryQueue,
  type LocalBroker,
  type PingSourceSpec,
} from '@ytrag/broker'
import { PING_EVENT_TYPE } from '@ytrag/events'
import { CloudEvent } from 'cloudevents'
import { Cron } from 'croner'
import { loadConfig, type Config } from '@ytrag/config'
import { deadLetter } from '@ytrag/dead-letter'
import { discover } from '@ytrag/discover'
import { download } from '@ytrag/download'
import {
  assertStorageWritable,
  createFunctionApps,
  diskSpaceCheck,
  loggedIdleMemory,
  openDependencies,
  openTracing,
  serveApp,
  type FunctionDefinition,
  type RunningServer,
} from '@ytrag/function'
import { indexer } from '@ytrag/indexer'
import { transcribe } from '@ytrag/transcribe'
import { createLogger } from '@ytrag/logging'
import { chooseLocalYtDlp } from './ytdlp/index.ts'
import { sweepAbandonedScratchDirs, ytdlpReadiness } from '@ytrag/youtube'
import type { Stores } from '@ytrag/stores'

/** Every function the local server runs; the Triggers in `knative/` decide which gets what. */
export const localFunctions: FunctionDefinition[] = [api, discover, download, transcribe, indexer, deadLetter]

const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url))

export interface LocalServer {
  /** The public API's address, e.g. `http://127.0.0.1:8000`. */
  url: string
  port: number
  config: Config
  stores: Stores
  broker: LocalBroker
  /**
   * Each function's own loopback address (its internal listener: POST /, /metrics, health); the
   * broker delivers to these over HTTP. The api's public port serves neither POST / nor /metrics.
   */
  functionUrls: Record<string, string>
  close(): Promise<void>
}

export interface LocalServerOptions {
  /** Default `process.env`. */
  env?: Record<string, string | undefined>
  /** Stops the server gracefully on SIGTERM and SIGINT. */
  handleSignals?: boolean
  /**
   * Chooses the yt-dlp to run (`npm start` does): the machine's when recent enough, else the one
   * youtube-dl-exec downloads. Off by default, so a test never depends on the network.
   */
  chooseYtDlp?: boolean
}

/**
 * Runs the whole pipeline in one process: every function on its own loopback port, the
 * in-process broker routing events between them by the Triggers under `knative/`, the
 * stores the configuration selects (embedded by default), and the public API on `SERVER__PORT`.
 *
 * @example
 * ```ts
 * const server = await startLocalServer({ env: process.env })
 * console.log(`listening on ${server.url}`)
 * ```
 */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const env = options.env ?? process.env
  let config = loadConfig(env)
  const logger = createLogger({ name: 'local', level: config.log.level })
  // The broker's queue lives there whatever the stores: a read-only folder is named, not a stack trace.
  await assertStorageWritable(config)
  // `npm start`: a current yt-dlp when the machine's is missing or too old (see chooseLocalYtDlp).
  // A path the user set is theirs; YTDLP__LOCAL_DOWNLOAD=off keeps the machine's.
  const pathSet = ['YOUTUBE_RAG__TOOLS__YTDLP_PATH', 'TOOLS__YTDLP_PATH'].some(
    (name) => env[name] !== undefined || env[`${name}_FILE`] !== undefined,
  )
  if (options.chooseYtDlp && config.ytdlp.localDownload === 'auto' && !pathSet) {
    const chosen = await chooseLocalYtDlp({
      binary: config.tools.ytdlpPath,
      minVersion: config.ytdlp.minVersion,
      dir: join(config.storage.dir, 'bin'),
      env,
      logger: logger.child({ component: 'yt-dlp' }),
    })
    config = { ...config, tools: { ...config.tools, ytdlpPath: chosen.path } }
  }
  // One set of stores and providers for every function: they are the same process.
  const opened = await openDependencies(config, { env, logger, rateLimited: true })
  // Each function exports its spans as its own service, as in the cluster (when an OTLP endpoint is set).
  const tracing = await openTracing(config, env, logger)
  const stores = opened.stores
  const manifestsDir = isAbsolute(config.broker.manifestsDir)
    ? config.broker.manifestsDir
    : resolve(repositoryRoot, config.broker.manifestsDir)
  const functionUrls: Record<string, string> = {}

  // What a killed run left in the temp folder (caption files, downloaded audio) goes first.
  const swept = await sweepAbandonedScratchDirs()
  if (swept > 0) logger.info({ swept }, 'removed the scratch folders of a process that is gone')
  const wiring = readBrokerWiring(manifestsDir)
  // Deliveries a previous process left in the queue start at once; they wait here until every
  // function listens, rather than spending their retries on functions not yet started.
  let functionsListen!: (started: boolean) => void
  const listening = new Promise<boolean>((resolve) => (functionsListen = resolve))
  let broker: LocalBroker | undefined
  const servers: RunningServer[] = []
  let apiServer: RunningServer | undefined
  try {
    broker = createLocalBroker({
      wiring,
      backoffScale: config.broker.backoffScale,
      subscriberConcurrency: config.broker.subscriberConcurrency,
      logger: logger.child({ component: 'broker' }),
      // The process's own queue, whatever document store is configured: events accepted before a
      // crash (kill -9 included) are delivered at the next start.
      queue: new SqliteDeliveryQueue({ path: join(config.storage.dir, 'broker.sqlite') }),
      async deliver(service, request) {
        if (!(await listening)) throw new Error('the local server did not start')
        const target = functionUrls[service]
        if (!target) return new Response(`no function ${service} runs in this process`, { status: 503 })
        return fetch(target, {
          method: 'POST',
          headers: request.headers,
          body: await request.text(),
          signal: request.signal,
        })
      },
    })
    // Pages the user visits can reach this machine's ports: every listener answers only the
    // names it serves and takes state changes only as JSON from home (see localGuard).
    const guard = { hosts: [config.server.host, ...config.server.allowedHosts] }
    // One idle clock for the process: a delivery to any function is use of all of them.
    const idleMemory = loggedIdleMemory(config.server.idleMemoryReleaseMs, logger)
    for (const definition of localFunctions) {
      const isApi = definition.name === 'api'
      const { app, internal } = createFunctionApps(definition, {
        config,
        sink: broker,
        logger: createLogger({ name: definition.name, level: config.log.level }),
        ...opened,
        localGuard: guard,
        // The api's readiness is the one a user sees: it tells what would make an ingest fail (the
        // yt-dlp probe is the one discover and download made: one `--version` for the process).
        ...(isApi
          ? {
              readiness: {
                ytdlp: ytdlpReadiness(config.tools.ytdlpPath, config.ytdlp),
                disk: diskSpaceCheck(config.storage.dir),
              },
            }
          : {}),
        // The broker's counts are shown where the cluster's dead letters are counted.
        ...(definition.name === 'dead-letter' ? { brokerCounts: () => broker!.stats() } : {}),
        tracer: tracing.tracerFor(definition.name),
      })
      const running = await serveApp(internal, { port: 0, hostname: '127.0.0.1', handleSignals: false, idleMemory })
      servers.push(running)
      functionUrls[definition.name] = `http://127.0.0.1:${running.port}/`
      if (isApi) {
        apiServer = await serveApp(app, {
          port: config.server.port,
          hostname: config.server.host,
          handleSignals: false,
          idleMemory,
        })
        servers.push(apiServer)
      }
    }
  } catch (error) {
    // The broker closes first, so the deliveries waiting for the functions fail while it is
    // closing: they stay queued for the next start instead of reaching half-started functions.
    const brokerClosed = broker?.close()
    functionsListen(false)
    await brokerClosed
    await Promise.all(servers.map((server) => server.close()))
    await opened.close()
    await tracing.close()
    throw error
  }
  functionsListen(true)

  // The PingSources' schedules, run in process: their ticks reach the Broker as Knative's do.
  const schedules =
    config.broker.pingSchedule === 'off'
      ? []
      : (wiring.pingSources ?? []).map((source) => runPingSource(source, broker, config.broker.pingSchedule, logger))

  const port = apiServer!.port
  const host = config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      for (const schedule of schedules) schedule.stop()
      // Deliveries in flight finish first, while every function can still take them.
      await broker.close()
      await Promise.all(servers.map((server) => server.close()))
      await opened.close()
      // Last: the spans of the deliveries that just finished are sent.
      await tracing.close()
    })())

  if (options.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        logger.info({ signal }, 'shutting down: finishing deliveries in flight')
        void close().then(
          () => process.exit(0),
          () => process.exit(1),
        )
      })
    }
  }
  logger.info(
    { url: `http://${host}:${port}`, storage: config.storage.dir, manifests: manifestsDir, functions: functionUrls },
    'youtube-rag local server listening',
  )
  return { url: `http://${host}:${port}`, port, config, stores, broker, functionUrls, close }
}

/** Sends a PingSource's event to the broker on its schedule (or `override`), as Knative's ping adapter does. */
function runPingSource(
  source: PingSourceSpec,
  broker: LocalBroker,
  override: string | undefined,
  logger: ReturnType<typeof createLogger>,
): Cron {
  const json = source.contentType === undefined || source.contentType.includes('json')
  const data = source.data === undefined ? undefined : json ? JSON.parse(source.data) : source.data
  const schedule = override ?? source.schedule
  logger.info({ pingSource: source.name, schedule }, 'schedule running in process')
  return new Cron(schedule, { timezone: source.timezone ?? 'UTC', protect: true }, async () => {
    const event = new CloudEvent({
      type: PING_EVENT_TYPE,
      source: `/apis/v1/namespaces/youtube-rag/pingsources/${source.name}`,
      datacontenttype: source.contentType ?? 'application/json',
      ...(data === undefined ? {} : { data }),
    })
    await broker
      .send(event)
      .catch((error: unknown) => logger.warn({ err: error, pingSource: source.name }, 'schedule tick not delivered'))
  })
}
