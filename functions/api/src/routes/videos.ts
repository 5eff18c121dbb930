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
    const video = await stores.documents.getVideo(videoId)
    if (!video) throw new ApiError(404, 'video_not_found', `no video ${videoId}`)
    // Chunks and blobs first: a crash half-way leaves the document, so the delete can be repeated.
    const chunks = await stores.chunks.deleteVideo(videoId)
    const blobs = await stores.blobs.deleteByPrefix(blobKeys.videoPrefix(videoId))
    await stores.documents.deleteVideo(videoId)
    logger.info({ videoId, chunks, blobs }, 'video deleted')
    return c.json({ videoId, deleted: true, chunks, blobs })
  })
}
