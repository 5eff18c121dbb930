import type { Config } from '@ytrag/config'
import type { Logger } from '@ytrag/logging'
import { providersFromConfig, type Providers } from '@ytrag/providers'
import { rateLimiterFromConfig, type RateLimiter } from '@ytrag/rate-limit'
import { openStores, type EmbeddingSize, type StoreProviders, type Stores } from '@ytrag/stores'
import { assertStorageWritable } from '../readiness/index.ts'

/** What a function's handlers run against, opened once at start-up from the configuration. */
export interface OpenedDependencies {
  stores: Stores
  storeProviders: StoreProviders
  providers: Providers
  /** Only for a function that serves the public API, and only when limiting is on. */
  rateLimiter?: RateLimiter
  close(): Promise<void>
}

export interface OpenDependenciesOptions {
  /** Secrets: `OPENAI_API_KEY`, `QDRANT_API_KEY`. Default `process.env`. */
  env?: Record<string, string | undefined>
  logger: Logger
  /** Opens the rate limiter too (the public API). */
  rateLimited?: boolean
}

/**
 * The embedding size the chunk index is made with. Known up front for OpenAI's models or when
 * configured; otherwise learned from one embedding, but only when an index needs it before its
 * first vector (Qdrant, making its collection on first use), never while the function starts:
 * a scale from zero must not wait on, or pay for, a model request.
 */
function embeddingSize(providers: Providers): EmbeddingSize | undefined {
  const embeddings = providers.embeddings
  if (!embeddings) return undefined
  if (embeddings.dimensions !== undefined) return embeddings.dimensions
  return async () => (await embeddings.embed(['dimension probe']))[0]?.length
}

/**
 * Opens the stores, providers and (for the public API) the rate limiter that the configuration
 * selects; `close()` releases them all.
 *
 * @example
 * const opened = await openDependencies(config, { logger, rateLimited: definition.publicApi })
 * const app = createFunctionApp(definition, { config, logger, sink, ...opened })
 * await opened.close()
 */
export async function openDependencies(config: Config, options: OpenDependenciesOptions): Promise<OpenedDependencies> {
  const { env = process.env, logger } = options
  // The embedded stores live in the storage directory: say so plainly if it cannot be written.
  if (
    config.documentDb.provider === 'sqlite' ||
    config.vectorDb.provider === 'sqlite' ||
    config.blobStorage.provider === 'directory'
  )
    await assertStorageWritable(config)
  const providers = providersFromConfig(config, env, (message) => logger.warn(message))
  const dimensions = embeddingSize(providers)
  // Side by side: Redis is connected to while the stores' adapters are read.
  const [opened, limiter] = await Promise.allSettled([
    openStores(config, { env, ...(dimensions === undefined ? {} : { dimensions }) }),
    options.rateLimited ? rateLimiterFromConfig(config) : undefined,
  ])
  if (opened.status === 'rejected' || limiter.status === 'rejected') {
    // Whichever did open is closed again before the failure is reported.
    await Promise.allSettled([
      opened.status === 'fulfilled' ? opened.value.close() : undefined,
      limiter.status === 'fulfilled' ? limiter.value?.close() : undefined,
    ])
    throw opened.status === 'rejected' ? opened.reason : (limiter as PromiseRejectedResult).reason
  }
  const { providers: storeProviders, ...stores } = opened.value
  const rateLimiter = limiter.value
  logger.info(
    {
      stores: storeProviders,
      embeddings: providers.embeddings?.model ?? 'none',
      chat: providers.chat?.model ?? 'none',
      ...(options.rateLimited ? { rateLimit: rateLimiter ? config.rateLimit.provider : 'off' } : {}),
    },
    'dependencies opened',
  )
  return {
    stores,
    storeProviders,
    providers,
    ...(rateLimiter ? { rateLimiter } : {}),
    async close() {
      await Promise.all([stores.close(), rateLimiter?.close()])
    },
  }
}
