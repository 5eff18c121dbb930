// Helpers for handler tests over real HTTP: a function served on a loopback port, a sink
// that is itself an HTTP server recording what it receives (as `K_SINK` would be), and
// CloudEvents posted in binary or structured mode through the SDK.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type Config } from '@ytrag/config'
import { createEvent, eventFromRequest, httpSink, requestForEvent, validateEvent, type EventData, type EventName, type ReceivedEvent } from '@ytrag/events'
import { createLogger } from '@ytrag/logging'
import type { Providers } from '@ytrag/providers'
import type { Stores } from '@ytrag/stores'
import { Hono } from 'hono'
import { openDependencies } from '../dependencies/index.ts'
import { createFunctionApp, type FunctionDefinition } from '../factory/index.ts'
import { serveApp, type RunningServer } from '../serve/index.ts'

export interface EventRecorder {
  url: string
  events: ReceivedEvent[]
  close(): Promise<void>
}

/**
 * An HTTP server that takes CloudEvents like a Broker's ingress and keeps them for assertions.
 *
 * @example
 * ```ts
 * const sink = await startEventRecorder()
 * // …a function with K_SINK = sink.url emits…
 * expect(sink.events.map((e) => e.name)).toEqual(['video.indexed'])
 * ```
 */
export async function startEventRecorder(): Promise<EventRecorder> {
  const events: ReceivedEvent[] = []
  const app = new Hono()
  app.post('/', async (c) => {
    events.push(validateEvent(await eventFromRequest(c.req.raw)))
    return c.body(null, 202)
  })
  const running = await serveApp(app, { port: 0, hostname: '127.0.0.1', handleSignals: false })
  return { url: `http://127.0.0.1:${running.port}/`, events, close: running.close }
}

export interface FunctionUnderTest {
  url: string
  stores: Stores
  providers: Providers
  config: Config
  sink: EventRecorder
  /** Posts a catalog event to the function over HTTP and returns its answer. */
  deliver<N extends EventName>(name: N, subject: string, data: EventData<N>, options?: { mode?: 'binary' | 'structured'; id?: string }): Promise<Response>
  close(): Promise<void>
}

/**
 * Serves one function on a loopback port over the stores `env` selects (by default fresh
 * embedded ones in a temporary folder). Only `env` is read, never the test process's own
 * environment, so a developer's `OPENAI_API_KEY` cannot leak into a test.
 *
 * @example
 * ```ts
 * const fn = await startFunctionUnderTest(indexer)
 * const answer = await fn.deliver('transcript.ready', videoId, data, { mode: 'structured' })
 * ```
 */
export async function startFunctionUnderTest(
  definition: FunctionDefinition,
  env: Record<string, string> = {},
  /** `sinkUrl`: where the function sends its events instead of the recorder (which then records nothing), e.g. another CloudEvents implementation's receiver. */
  options: { sinkUrl?: string } = {},
): Promise<FunctionUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), `ytrag-${definition.name}-`))
  const fullEnv = { YOUTUBE_RAG__STORAGE__DIR: dir, YOUTUBE_RAG__LOG__LEVEL: 'silent', ...env }
  const config = loadConfig(fullEnv)
  const logger = createLogger({ name: definition.name, level: config.log.level })
  const opened = await openDependencies(config, { env: fullEnv, logger, rateLimited: definition.publicApi ?? false })
  const { stores, providers } = opened
  const sink = await startEventRecorder()
  const app = createFunctionApp(definition, { config, sink: httpSink(options.sinkUrl ?? sink.url), logger, ...opened })
  const running: RunningServer = await serveApp(app, { port: 0, hostname: '127.0.0.1', handleSignals: false })
  const url = `http://127.0.0.1:${running.port}/`
  return {
    url,
    stores,
    providers,
    config,
    sink,
    async deliver(name, subject, data, options = {}) {
      const event = createEvent(name, { function: 'test', subject, data })
      const sent = options.id ? event.cloneWith({ id: options.id }) : event
      return fetch(requestForEvent(url, sent, options.mode ?? 'binary'))
    },
    async close() {
      await running.close()
      await sink.close()
      await opened.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
