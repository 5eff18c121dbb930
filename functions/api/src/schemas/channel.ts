// Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'
import { channelSchema } from '@ytrag/domain'
import { required } from './common.ts'

export const subscribeRequest = z.lazy(() =>
  z
    .object({
      url: z
        .string({ error: required('url') })
        .min(1, 'url is required')
        .describe('A channel URL: /channel/UC…, /@handle, /c/…, /user/….'),
      backfill: z
        .union([z.number().int().min(0).max(10_000), z.literal('all')])
        .optional()
        .describe("How many of the newest videos to index now; 'all' for the whole channel."),
      languages: z
        .array(z.string().min(2).max(20))
        .max(10)
        .optional()
        .describe("Caption languages wanted, in order; by default the video's own."),
      speechToText: z
        .boolean()
        .optional()
        .describe('Whether videos without captions may be transcribed (it costs money).'),
      intervalSeconds: z
        .number()
        .int()
        .min(5)
        .max(30 * 24 * 3600)
        .optional()
        .describe('How often the channel is synced.'),
    })
    .openapi('SubscribeRequest'),
)

export const subscribed = z.lazy(() =>
  z
    .strictObject({
      channel: channelSchema,
      jobId: z.string().optional().describe('The backfill job, when one was started.'),
    })
    .openapi('Subscribed'),
)

export const channelList = z.lazy(() => z.strictObject({ items: z.array(channelSchema) }).openapi('ChannelList'))

export const channelIdParam = z.object({ channelId: z.string().min(1) })

export const channelDeleted = z.lazy(() =>
  z.strictObject({ deleted: z.literal(true), channelId: z.string() }).openapi('ChannelDeleted'),
)
