import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import { ApiError } from '@ytrag/function'
import type { StoredTranscript } from '@ytrag/stores'
import type { ApiEnv } from '../http/index.ts'
import { jsonAnswer } from '../schemas/common.ts'
import { commonErrors, errorAnswer } from '../schemas/error.ts'
import { transcriptResponse } from '../schemas/transcript.ts'
import { videoIdParam } from '../schemas/video.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/videos/{videoId}/transcript',
  operationId: 'getTranscript',
  summary: 'The timed transcript',
  request: { params: videoIdParam },
  responses: {
    200: jsonAnswer(transcriptResponse, 'the transcript'),
    ...commonErrors,
    404: errorAnswer('no such video (video_not_found), or none of its words yet (transcript_not_found)'),
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { stores } = c.var.context
  const { videoId } = c.req.valid('param')
  const video = await stores.documents.getVideo(videoId)
  if (!video) throw new ApiError(404, 'video_not_found', `no video ${videoId}`)
  const body = video.transcript ? await stores.blobs.get(video.transcript.blobKey) : undefined
  if (!body)
    throw new ApiError(404, 'transcript_not_found', `video ${videoId} has no transcript yet (status: ${video.status})`)
  const transcript = JSON.parse(new TextDecoder().decode(body)) as StoredTranscript
  return c.json(
    {
      videoId,
      source: transcript.source,
      language: transcript.language,
      ...(transcript.model ? { model: transcript.model } : {}),
      segments: transcript.segments,
    },
    200,
  )
}
