import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import { ApiError } from '@ytrag/function'
import { blobKeys } from '@ytrag/stores'
import type { ApiEnv } from '../http/index.ts'
import { jsonAnswer } from '../schemas/common.ts'
import { errorAnswer, stateChangeErrors } from '../schemas/error.ts'
import { videoDeleted, videoIdParam } from '../schemas/video.ts'

export const route = createRoute({
  method: 'delete',
  path: '/v1/videos/{videoId}',
  operationId: 'deleteVideo',
  summary: 'Remove a video, its chunks, transcript and blobs',
  request: { params: videoIdParam },
  responses: {
    200: jsonAnswer(videoDeleted, 'deleted, with what was removed'),
    ...stateChangeErrors,
    404: errorAnswer('no such video (video_not_found)'),
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { stores, logger } = c.var.context
  const { videoId } = c.req.valid('param')
  // The document goes first: a stage still running finds it gone when it writes its result and
  // removes what it wrote, and anything written before that is swept here. A crash after the
  // document went is mended by deleting again: a video that is gone still has its remains swept.
  const existed = await stores.documents.deleteVideo(videoId)
  const chunks = await stores.chunks.deleteVideo(videoId)
  const blobs = await stores.blobs.deleteByPrefix(blobKeys.videoPrefix(videoId))
  if (!existed) {
    if (chunks + blobs > 0) logger.info({ videoId, chunks, blobs }, 'remains of a deleted video swept')
    throw new ApiError(404, 'video_not_found', `no video ${videoId}`)
  }
  logger.info({ videoId, chunks, blobs }, 'video deleted')
  return c.json({ videoId, deleted: true as const, chunks, blobs }, 200)
}
