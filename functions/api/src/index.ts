import type { FunctionDefinition } from '@ytrag/function'
import { InvalidCursorError } from '@ytrag/stores'
import { errorBody, ApiError } from './http/index.ts'
import { channelRoutes } from './routes/channels.ts'
import { openApiRoutes } from './routes/openapi.ts'
import { ingestRoutes } from './routes/ingest.ts'
import { searchRoutes } from './routes/search.ts'
import { videoRoutes } from './routes/videos.ts'

/**
 * `api`: the public HTTP API of DESIGN.md. It also takes `video.indexed` and `video.failed`
 * to log each job's progress as it moves.
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
      logger.warn({ jobId: event.data.jobId, reason: event.data.reason, status: job?.status, videos: job?.videos }, 'job progress: video failed')
    },
  },
  routes(app, context) {
    app.onError((error, c) => {
      if (error instanceof ApiError) return c.json(errorBody(error.code, error.message), error.status)
      // A cursor is the client's to keep, not to edit: one this server never issued is the client's mistake.
      if (error instanceof InvalidCursorError) return c.json(errorBody('invalid_cursor', `${error.message}: pass back the nextCursor of a previous page unchanged`), 400)
      context.logger.error({ err: error, path: c.req.path }, 'request failed')
      return c.json(errorBody('internal_error', 'the server could not complete the request'), 500)
    })
    app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`), 404))
    ingestRoutes(app, context)
    videoRoutes(app, context)
    searchRoutes(app, context)
    channelRoutes(app, context)
    openApiRoutes(app)
  },
}
