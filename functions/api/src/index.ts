import type { FunctionDefinition } from '@ytrag/function'
import { createApiApp } from './app.ts'
import { notFound, onApiError } from './http/index.ts'
import { webPage } from './web/index.ts'

export type { AppType } from './app.ts'

/**
 * `api`: the public HTTP API (docs/architecture.md), its routes in `routes/`, one per file
 * (see `createApiApp`). It also takes `video.indexed` and `video.failed` to log each job's
 * progress as it moves.
 *
 * @example
 * ```ts
 * const app = createFunctionApp(api, dependencies)
 * await app.request('/v1/search', { method: 'POST', body: JSON.stringify({ query: 'b-tree' }) })
 * ```
 */
export const api: FunctionDefinition = {
  name: 'api',
  publicApi: true,
  on: {
    'video.indexed': async (event, { stores, logger }) => {
      const job = await stores.documents.getJob(event.data.jobId)
      logger.info({ jobId: event.data.jobId, status: job?.status, videos: job?.videos }, 'job progress: video indexed')
    },
    'video.failed': async (event, { stores, logger }) => {
      const job = await stores.documents.getJob(event.data.jobId)
      logger.warn(
        { jobId: event.data.jobId, reason: event.data.reason, status: job?.status, videos: job?.videos },
        'job progress: video failed',
      )
    },
  },
  routes(app, context) {
    app.onError(onApiError(context.logger))
    app.notFound(notFound)
    app.route('/', createApiApp(context))
    // The web page: not part of /v1, so neither in the OpenAPI document nor in the typed client.
    app.route('/', webPage({ mediaHosts: context.config.ingest.allowedHosts }))
  },
}
