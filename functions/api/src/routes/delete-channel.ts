import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import { ApiError } from '@ytrag/function'
import type { ApiEnv } from '../http/index.ts'
import { channelDeleted, channelIdParam } from '../schemas/channel.ts'
import { jsonAnswer } from '../schemas/common.ts'
import { errorAnswer, stateChangeErrors } from '../schemas/error.ts'

export const route = createRoute({
  method: 'delete',
  path: '/v1/channels/{channelId}',
  operationId: 'deleteChannel',
  summary: 'Unsubscribe (its videos stay)',
  request: { params: channelIdParam },
  responses: {
    200: jsonAnswer(channelDeleted, 'unsubscribed'),
    ...stateChangeErrors,
    404: errorAnswer('not subscribed (channel_not_found)'),
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { channelId } = c.req.valid('param')
  if (!(await c.var.context.stores.documents.deleteChannel(channelId)))
    throw new ApiError(404, 'channel_not_found', `no subscription to channel ${channelId}`)
  // Its videos stay indexed: unsubscribing stops new ones, it does not forget the old.
  return c.json({ deleted: true as const, channelId }, 200)
}
