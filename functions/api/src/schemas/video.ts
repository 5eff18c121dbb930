// Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'
import { videoSchema } from '@ytrag/domain'

export const listVideosQuery = z.object({
  channelId: z.string().min(1).optional().describe("Only this channel's videos."),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).optional().describe('The `nextCursor` of the previous page, unchanged.'),
})

export const videoPage = z.lazy(() =>
  z
    .strictObject({
      items: z.array(videoSchema),
      nextCursor: z.string().nullable().describe('Pass it back as `cursor` for the next page; null on the last.'),
    })
    .openapi('VideoPage'),
)

export const videoIdParam = z.object({ videoId: z.string().min(1) })

export const videoDeleted = z.lazy(() =>
  z
    .strictObject({
      videoId: z.string(),
      deleted: z.literal(true),
      chunks: z.number().int().describe('Search chunks removed.'),
      blobs: z.number().int().describe('Stored files removed (transcript, audio pieces).'),
    })
    .openapi('VideoDeleted'),
)
