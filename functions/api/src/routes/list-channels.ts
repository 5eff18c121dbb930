import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import type { ApiEnv } from '../http/index.ts'
import { channelList } from '../schemas/channel.ts'
import { jsonAnswer } from '../schemas/common.ts'
import { commonErrors } from '../schemas/error.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/channels',
  operationId: 'listChannels',
  summary: 'Subscriptions with their sync state',
  responses: { 200: jsonAnswer(channelList, 'every subscription'), ...commonErrors },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) =>
  c.json({ items: await c.var.context.stores.documents.listChannels() }, 200)
