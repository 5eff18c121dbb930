import type { FunctionContext } from '@ytrag/function'
import { blobKeys, type StoredTranscript } from '@ytrag/stores'
import type { Hono } from 'hono'
import { ApiError } from '../http/index.ts'
import { listVideosQuery } from './schemas.ts'

/** The video routes: list, one video, its transcript, delete. */
export function videoRoutes(app: Hono, { stores, logger }: FunctionContext) {
  app.get('/v1/videos', async (c) => {
    const parsed = listVideosQuery.safeParse(c.req.query())
    if (!parsed.success) {
      throw new ApiError(400, 'invalid_request', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '))
    }
    const { channelId, limit, cursor } = parsed.data
    return c.json(await stores.documents.listVideos({ limit, ...(channelId ? { channelId } : {}), ...(cursor ? { cursor } : {}) }))
  })

  app.get('/v1/videos/:videoId', async (c) => {
    const video = await stores.documents.getVideo(c.req.param('videoId'))
    if (!video) throw new ApiError(404, 'video_not_found', `no video ${c.req.param('videoId')}`)
    return c.json(video)
  })

  app.get('/v1/videos/:videoId/transcript', async (c) => {
    const videoId = c.req.param('videoId')
    const video = await stores.documents.getVideo(videoId)
    if (!video) throw new ApiError(404, 'video_not_found', `no video ${videoId}`)
    const body = video.transcript ? await stores.blobs.get(video.transcript.blobKey) : undefined
    if (!body) throw new ApiError(404, 'transcript_not_found', `video ${videoId} has no transcript yet (status: ${video.status})`)
    const transcript = JSON.parse(new TextDecoder().decode(body)) as StoredTranscript
    return c.json({
      videoId,
      source: transcript.source,
      language: transcript.language,
      ...(transcript.model ? { model: transcript.model } : {}),
      segments: transcript.segments,
    })
  })

  app.delete('/v1/videos/:videoId', async (c) => {
    const videoId = c.req.param('videoId')
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
    return c.json({ videoId, deleted: true, chunks, blobs })
  })
}
