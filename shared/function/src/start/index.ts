import { loadConfig } from '@ytrag/config'
import { httpSink, type EventSink } from '@ytrag/events'
import { createLogger } from '@ytrag/logging'
import { openDependencies } from '../dependencies/index.ts'
import { createFunctionApps, type FunctionDefinition } from '../factory/index.ts'
import { loggedIdleMemory } from '../idle-memory/index.ts'
import { serveApp, type RunningServer } from '../serve/index.ts'
import { openTracing } from '../tracing/index.ts'

/** A sink that explains itself when a function that emits runs without `K_SINK`. */
const missingSink = (name: string): EventSink => ({
  async send(event) {
    throw new Error(`${name} cannot emit ${event.type}: K_SINK is not set (a SinkBinding sets it in the cluster)`)
  },
})

/**
 * Runs one function as its own server, the way its image does in the cluster: configuration
 * and the stores it selects from the environment, events out to `K_SINK`, listening on `PORT`
 * (default 8080, Knative's port) and on `INTERNAL_PORT` (default 8090: /metrics for the
 * ServiceMonitor, which the api's public port does not serve).
 *
 * @example
 * ```ts
 * // functions/indexer/src/main.ts
 * await startFunction(indexer)
 * ```
 */
export async function startFunction(
  definition: FunctionDefinition,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningServer> {
  const config = loadConfig(env)
  const logger = createLogger({ name: definition.name, level: config.log.level })
  const opened = await openDependencies(config, { env, logger, rateLimited: definition.publicApi ?? false })
  const sink = env.K_SINK ? httpSink(env.K_SINK) : missingSink(definition.name)
  // Loads the OpenTelemetry SDK only when an OTLP endpoint is set.
  const tracing = await openTracing(config, env, logger)
  const { app, internal } = createFunctionApps(definition, {
    config,
    sink,
    logger,
    ...opened,
    eventsOnClusterHost: definition.publicApi ?? false,
    tracer: tracing.tracerFor(definition.name),
  })
  const idleMemory = loggedIdleMemory(config.server.idleMemoryReleaseMs, logger)
  // Not 9090 or 9091: those are queue-proxy's, in the same pod.
  const internalServer = await serveApp(internal, {
    port: Number(env.INTERNAL_PORT ?? 8090),
    handleSignals: false,
    idleMemory,
  })
  const running = await serveApp(app, {
    port: Number(env.PORT ?? 8080),
    idleMemory,
    onShutdown: async () => {
      await internalServer.close()
      await opened.close()
      // Last: the spans of the requests that just finished are sent before the process exits.
      await tracing.close()
    },
  })
  logger.info({ port: running.port, internalPort: internalServer.port }, `${definition.name} listening`)
  return running
}
