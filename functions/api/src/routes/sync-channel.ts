import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import { channelOr404, startSync } from '../channels/index.ts'
import type { ApiEnv } from '../http/index.ts'
import { channelIdParam } from '../schemas/channel.ts'
import { jsonAnswer } from '../schemas/common.ts'
import { errorAnswer, postErrors } from '../schemas/error.ts'
import { jobStarted } from '../schemas/job.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/channels/{channelId}/sync',
  operationId: 'syncChannel',
  summary: 'Sync now',
  request: { params: channelIdParam },
  responses: {
    202: jsonAnswer(jobStarted, 'the sync started: follow it at /v1/jobs/{jobId}'),
    ...postErrors,
    404: errorAnswer('not subscribed (channel_not_found)'),
    503: errorAnswer('the event broker is unavailable (broker_unavailable)'),
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { context } = c.var
  const channel = await channelOr404(context, c.req.valid('param').channelId)
  return c.json({ jobId: await startSync(context, channel, 'manual') }, 202)
}
