import type { FunctionContext } from '@ytrag/function'
import type { Channel } from '@ytrag/stores'
import { ChannelError, channelFetchOptionsFrom, checkIngestUrl, nextSyncTime, RateLimitedError, resolveChannel } from '@ytrag/youtube'
import type { Hono } from 'hono'
import { ApiError, readBody } from '../http/index.ts'
import { subscribeRequest } from './schemas.ts'

/**
 * The channel subscriptions: subscribe (resolving any of a channel URL's forms to its id, and
 * starting the backfill), list, show, unsubscribe, and sync now.
 */
export function channelRoutes(app: Hono, { stores, config, emit, logger }: FunctionContext) {
  const channelOr404 = async (channelId: string): Promise<Channel> => {
    const channel = await stores.documents.getChannel(channelId)
    if (!channel) throw new ApiError(404, 'channel_not_found', `no subscription to channel ${channelId}`)
    return channel
  }
  /** A job to follow the sync by, and the event that starts it. */
  const startSync = async (channel: Channel, reason: 'subscribed' | 'manual', backfill?: number | 'all') => {
    const jobId = crypto.randomUUID()
    await stores.documents.createJob({ jobId, url: channel.url })
    try {
      await emit('channel.resync.requested', channel.channelId, {
        jobId,
        channelId: channel.channelId,
        url: channel.url,
        reason,
        ...(backfill === undefined ? {} : { backfill }),
      })
    } catch (error) {
      logger.error({ err: error, jobId, channelId: channel.channelId }, 'could not hand the channel sync to the broker')
      await stores.documents.failJob(jobId, `the event broker did not accept the request: ${(error as Error).message}`)
      throw new ApiError(503, 'broker_unavailable', 'the event broker is unavailable; the sync was not started, try again')
    }
    return jobId
  }

  app.post('/v1/channels', async (c) => {
    const body = await readBody(c, subscribeRequest)
    const checked = await checkIngestUrl(body.url, { allowedHosts: config.ingest.allowedHosts })
    if (!checked.ok) throw new ApiError(400, checked.code, checked.message)
    const url = checked.url.toString()
    let resolved
    try {
      resolved = await resolveChannel(url, channelFetchOptionsFrom(config))
    } catch (error) {
      if (error instanceof RateLimitedError) {
        const retry = String(Math.ceil(error.retryAfterSeconds ?? config.channels.rateLimitBackoffSeconds))
        c.header('Retry-After', retry)
        throw new ApiError(503, 'upstream_rate_limited', `${error.message}; try again in ${retry} s`)
      }
      // A page that does not answer in time is the upstream's failure, not the request's.
      if (error instanceof ChannelError && error.fetchCode === 'timeout') throw new ApiError(504, 'upstream_timeout', error.message)
      // A redirect (or a name) leading off the allow-list or to an internal address: the same
      // refusal a URL given directly gets.
      if (error instanceof ChannelError && (error.fetchCode === 'host_not_allowed' || error.fetchCode === 'private_address')) {
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
      defaults: { languages: [], speechToText: false, backfill: channels.backfill, intervalSeconds: channels.intervalSeconds },
      // For a new subscription: the backfill runs now, the schedule takes over one interval later.
      nextSyncAt: nextSyncTime(new Date(), { intervalSeconds: body.intervalSeconds ?? channels.intervalSeconds, jitterRatio: channels.jitterRatio }).toISOString(),
    })
    // Subscribing again changes the options sent; it backfills again only when asked to.
    let jobId: string | undefined
    try {
      jobId = created || body.backfill !== undefined ? await startSync(channel, 'subscribed', channel.backfill) : undefined
    } catch (error) {
      // A new subscription whose backfill could not start is not kept: subscribing again (as the
      // 503 says) creates it anew and starts the backfill.
      if (error instanceof ApiError && error.code === 'broker_unavailable' && created) await stores.documents.deleteChannel(channel.channelId)
      throw error
    }
    return c.json({ channel, ...(jobId ? { jobId } : {}) }, created ? 201 : 200)
  })

  app.get('/v1/channels', async (c) => c.json({ items: await stores.documents.listChannels() }))

  app.get('/v1/channels/:channelId', async (c) => c.json(await channelOr404(c.req.param('channelId'))))

  app.delete('/v1/channels/:channelId', async (c) => {
    const channelId = c.req.param('channelId')
    if (!(await stores.documents.deleteChannel(channelId))) throw new ApiError(404, 'channel_not_found', `no subscription to channel ${channelId}`)
    // Its videos stay indexed: unsubscribing stops new ones, it does not forget the old.
    return c.json({ deleted: true, channelId })
  })

  app.post('/v1/channels/:channelId/sync', async (c) => {
    const channel = await channelOr404(c.req.param('channelId'))
    return c.json({ jobId: await startSync(channel, 'manual') }, 202)
  })
}
