import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import { channelSchema } from '@ytrag/domain'
import { channelOr404 } from '../channels/index.ts'
import type { ApiEnv } from '../http/index.ts'
import { channelIdParam } from '../schemas/channel.ts'
import { jsonAnswer } from '../schemas/common.ts'
import { commonErrors, errorAnswer } from '../schemas/error.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/channels/{channelId}',
  operationId: 'getChannel',
  summary: 'One subscription',
  request: { params: channelIdParam },
  responses: {
    200: jsonAnswer(channelSchema, 'the subscription'),
    ...commonErrors,
    404: errorAnswer('not subscribed (channel_not_found)'),
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) =>
  c.json(await channelOr404(c.var.context, c.req.valid('param').channelId), 200)
