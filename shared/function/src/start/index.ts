import { loadConfig } from '@ytrag/config'
import { httpSink, type EventSink } from '@ytrag/events'
import { createLogger } from '@ytrag/logging'
import { openDependencies } from '../dependencies/index.ts'
import { createFunctionApp, type FunctionDefinition } from '../factory/index.ts'
import { serveApp, type RunningServer } from '../serve/index.ts'

/** A sink that explains itself when a function that emits runs without `K_SINK`. */
const missingSink = (name: string): EventSink => ({
  async send(event) {
    throw new Error(`${name} cannot emit ${event.type}: K_SINK is not set (a SinkBinding sets it in the cluster)`)
  },
})

/**
 * Runs one function as its own server, the way its image does in the cluster: configuration
 * and the stores it selects from the environment, events out to `K_SINK`, listening on `PORT`
 * (default 8080).
 *
 * @example
 * ```ts
 * // functions/indexer/src/main.ts
 * await startFunction(indexer)
 * ```
 */
export async function startFunction(definition: FunctionDefinition, env: NodeJS.ProcessEnv = process.env): Promise<RunningServer> {
  const config = loadConfig(env)
  const logger = createLogger({ name: definition.name, level: config.log.level })
  const opened = await openDependencies(config, { env, logger, rateLimited: definition.publicApi ?? false })
  const sink = env.K_SINK ? httpSink(env.K_SINK) : missingSink(definition.name)
  const app = createFunctionApp(definition, { config, sink, logger, ...opened })
  const running = await serveApp(app, { port: Number(env.PORT ?? 8080), onShutdown: () => opened.close() })
  logger.info({ port: running.port }, `${definition.name} listening`)
  return running
}
