import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import { videoSchema } from '@ytrag/domain'
import { ApiError } from '@ytrag/function'
import type { ApiEnv } from '../http/index.ts'
import { jsonAnswer } from '../schemas/common.ts'
import { commonErrors, errorAnswer } from '../schemas/error.ts'
import { videoIdParam } from '../schemas/video.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/videos/{videoId}',
  operationId: 'getVideo',
  summary: 'A video: metadata, chapters, live status, stage status, transcript source and caption choice',
  request: { params: videoIdParam },
  responses: {
    200: jsonAnswer(videoSchema, 'the video'),
    ...commonErrors,
    404: errorAnswer('no such video (video_not_found)'),
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { videoId } = c.req.valid('param')
  const video = await c.var.context.stores.documents.getVideo(videoId)
  if (!video) throw new ApiError(404, 'video_not_found', `no video ${videoId}`)
  return c.json(video, 200)
}
