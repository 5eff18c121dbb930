import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import { ApiError } from '@ytrag/function'
import {
  ChannelError,
  channelFetchOptionsFrom,
  checkIngestUrl,
  nextSyncTime,
  RateLimitedError,
  resolveChannel,
} from '@ytrag/youtube'
import { startSync } from '../channels/index.ts'
import type { ApiEnv } from '../http/index.ts'
import { subscribeRequest, subscribed } from '../schemas/channel.ts'
import { jsonAnswer, jsonBody } from '../schemas/common.ts'
import { bodyErrors, errorAnswer } from '../schemas/error.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/channels',
  operationId: 'subscribeChannel',
  summary: 'Subscribe to a channel (/channel/UC…, /@handle, /c/…, /user/…) and backfill its newest videos',
  request: { body: jsonBody(subscribeRequest) },
  responses: {
    201: jsonAnswer(subscribed, 'subscribed, and the backfill started (jobId)'),
    200: jsonAnswer(
      subscribed,
      'already subscribed: the options sent updated, the rest kept; a backfill only when asked for',
    ),
    ...bodyErrors,
    400: errorAnswer(
      'a body that does not fit, a URL refused, or a page that names no channel (invalid_url, host_not_allowed, private_address, not_a_channel)',
    ),
    503: errorAnswer(
      'the channel page is rate limited (upstream_rate_limited, see Retry-After), or the event broker is unavailable (broker_unavailable)',
    ),
    504: errorAnswer('the channel page did not answer in time (upstream_timeout)'),
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { context } = c.var
  const { stores, config } = context
  const body = c.req.valid('json')
  const checked = await checkIngestUrl(body.url, { allowedHosts: config.ingest.allowedHosts })
  if (!checked.ok) throw new ApiError(400, checked.code, checked.message)
  const url = checked.url.toString()
  let resolved
  try {
    resolved = await resolveChannel(url, channelFetchOptionsFrom(config))
  } catch (error) {
    if (error instanceof RateLimitedError) {
      const retry = String(Math.ceil(error.retryAfterSeconds ?? config.channels.rateLimitBackoffSeconds))
      throw new ApiError(503, 'upstream_rate_limited', `${error.message}; try again in ${retry} s`, {
        headers: { 'Retry-After': retry },
      })
    }
    // A page that does not answer in time is the upstream's failure, not the request's.
    if (error instanceof ChannelError && error.fetchCode === 'timeout')
      throw new ApiError(504, 'upstream_timeout', error.message)
    // A redirect (or a name) leading off the allow-list or to an internal address: the same
    // refusal a URL given directly gets.
    if (
      error instanceof ChannelError &&
      (error.fetchCode === 'host_not_allowed' || error.fetchCode === 'private_address')
    ) {
      throw new ApiError(400, error.fetchCode, error.message)
    }
    if (error instanceof ChannelError) throw new ApiError(400, 'not_a_channel', error.message)
    throw error
  }
  const { channels } = config
  // The options as sent (undefined when not): the store gives a new subscription the defaults
  // for the rest and leaves an existing one's as they were, in one step, so a subscribe racing
  // another cannot reset what that one set.
  const { created, channel } = await stores.documents.upsertChannel({
    channelId: resolved.channelId,
    url,
    listUrl: resolved.listUrl,
    ...(resolved.title ? { title: resolved.title } : {}),
    languages: body.languages,
    speechToText: body.speechToText,
    backfill: body.backfill,
    intervalSeconds: body.intervalSeconds,
    defaults: {
      languages: [],
      speechToText: false,
      backfill: channels.backfill,
      intervalSeconds: channels.intervalSeconds,
    },
    // For a new subscription: the backfill runs now, the schedule takes over one interval later.
    nextSyncAt: nextSyncTime(new Date(), {
      intervalSeconds: body.intervalSeconds ?? channels.intervalSeconds,
      jitterRatio: channels.jitterRatio,
    }).toISOString(),
  })
  // Subscribing again changes the options sent; it backfills again only when asked to.
  let jobId: string | undefined
  try {
    jobId =
      created || body.backfill !== undefined
        ? await startSync(context, channel, 'subscribed', channel.backfill)
        : undefined
  } catch (error) {
    // A new subscription whose backfill could not start is not kept: subscribing again (as the
    // 503 says) creates it anew and starts the backfill.
    if (error instanceof ApiError && error.code === 'broker_unavailable' && created)
      await stores.documents.deleteChannel(channel.channelId)
    throw error
  }
  const answer = { channel, ...(jobId ? { jobId } : {}) }
  return created ? c.json(answer, 201) : c.json(answer, 200)
}
