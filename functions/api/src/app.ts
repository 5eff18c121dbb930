import { OpenAPIHono } from '@hono/zod-openapi'
import type { FunctionContext } from '@ytrag/function'
import { validationHook, type ApiEnv } from './http/index.ts'
import * as ask from './routes/ask.ts'
import * as deleteChannel from './routes/delete-channel.ts'
import * as deleteVideo from './routes/delete-video.ts'
import * as getChannel from './routes/get-channel.ts'
import * as getJob from './routes/get-job.ts'
import * as getTranscript from './routes/get-transcript.ts'
import * as getVideo from './routes/get-video.ts'
import * as ingest from './routes/ingest.ts'
import * as listChannels from './routes/list-channels.ts'
import * as listVideos from './routes/list-videos.ts'
import { documentRoutes } from './routes/openapi.ts'
import * as search from './routes/search.ts'
import * as subscribeChannel from './routes/subscribe-channel.ts'
import * as syncChannel from './routes/sync-channel.ts'

/**
 * The public API's routes, each with its request and response schemas (`routes/*.ts`), the
 * OpenAPI document made from them (`/openapi.json`) and its docs page (`/docs`). Its type is
 * what Hono's typed client (`hc<AppType>`) reads.
 *
 * @example
 * ```ts
 * app.route('/', createApiApp(context))
 * ```
 */
export function createApiApp(context: FunctionContext) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook })
  app.use('/v1/*', async (c, next) => {
    c.set('context', context)
    await next()
  })
  documentRoutes(app)
  return app
    .openapi(ingest.route, ingest.handler)
    .openapi(getJob.route, getJob.handler)
    .openapi(listVideos.route, listVideos.handler)
    .openapi(getVideo.route, getVideo.handler)
    .openapi(getTranscript.route, getTranscript.handler)
    .openapi(deleteVideo.route, deleteVideo.handler)
    .openapi(search.route, search.handler)
    .openapi(ask.route, ask.handler)
    .openapi(subscribeChannel.route, subscribeChannel.handler)
    .openapi(listChannels.route, listChannels.handler)
    .openapi(getChannel.route, getChannel.handler)
    .openapi(deleteChannel.route, deleteChannel.handler)
    .openapi(syncChannel.route, syncChannel.handler)
}

/** The API's routes and their types, for `hc<AppType>(baseUrl)`. */
export type AppType = ReturnType<typeof createApiApp>
