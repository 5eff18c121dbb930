import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import { ApiError } from '@ytrag/function'
import { transcriptBlob } from '@ytrag/stores'
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
  // One that does not hold a transcript throws CorruptBlobError: a 500, logged with the blob's name and what is wrong.
  const transcript = video.transcript ? await transcriptBlob.read(stores.blobs, video.transcript.blobKey) : undefined
  if (!transcript)
    throw new ApiError(404, 'transcript_not_found', `video ${videoId} has no transcript yet (status: ${video.status})`)
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
