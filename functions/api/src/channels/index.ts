import { ApiError, type FunctionContext } from '@ytrag/function'
import type { Channel } from '@ytrag/stores'

/** The subscription to `channelId`, or a 404 `channel_not_found`. */
export async function channelOr404({ stores }: Pick<FunctionContext, 'stores'>, channelId: string): Promise<Channel> {
  const channel = await stores.documents.getChannel(channelId)
  if (!channel) throw new ApiError(404, 'channel_not_found', `no subscription to channel ${channelId}`)
  return channel
}

/** A job to follow a channel's sync by, and the event that starts it; a 503 when the broker does not take it. */
export async function startSync(
  { stores, emit, logger }: Pick<FunctionContext, 'stores' | 'emit' | 'logger'>,
  channel: Channel,
  reason: 'subscribed' | 'manual',
  backfill?: number | 'all',
): Promise<string> {
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
    throw new ApiError(
      503,
      'broker_unavailable',
      'the event broker is unavailable; the sync was not started, try again',
    )
  }
  return jobId
}
