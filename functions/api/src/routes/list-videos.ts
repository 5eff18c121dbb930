import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import type { ApiEnv } from '../http/index.ts'
import { jsonAnswer } from '../schemas/common.ts'
import { commonErrors, errorAnswer } from '../schemas/error.ts'
import { listVideosQuery, videoPage } from '../schemas/video.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/videos',
  operationId: 'listVideos',
  summary: 'Videos, newest first, paged by cursor',
  request: { query: listVideosQuery },
  responses: {
    200: jsonAnswer(videoPage, 'a page of videos'),
    ...commonErrors,
    400: errorAnswer('a bad limit, or a cursor this server did not issue (invalid_request, invalid_cursor)'),
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { channelId, limit, cursor } = c.req.valid('query')
  return c.json(
    await c.var.context.stores.documents.listVideos({
      limit,
      ...(channelId ? { channelId } : {}),
      ...(cursor ? { cursor } : {}),
    }),
    200,
  )
}
