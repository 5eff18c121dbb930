// The scheduled re-sync: which channels are due, and what one channel's sync does.
import { randomUUID } from 'node:crypto'
import type { EventData, ReceivedEvent } from '@ytrag/events'
import { videoLifecycle, type FunctionContext } from '@ytrag/function'
import type { Channel, NewVideo, Video, VideoAvailability } from '@ytrag/stores'
import {
  BlockedByYouTubeError,
  ChannelError,
  channelFeedUrl,
  channelFetchOptionsFrom,
  checkIngestUrl,
  fetchChannelFeed,
  listVideos,
  nextSyncTime,
  RateLimitedError,
  videoInfo,
  VideoUnavailableError,
  YtDlpError,
  ytdlpOptionsFrom,
  type FeedVideo,
} from '@ytrag/youtube'

/** What YouTube's feed holds; more than that needs a listing with yt-dlp. */
const FEED_SIZE = 15
/** How many of a channel's newest videos each sync looks through for live streams it skipped before. */
const SKIPPED_WINDOW = FEED_SIZE * 4
/** A claimed channel is not claimed again for this long, unless its sync records a time first. */
const CLAIM_LEASE_MS = 30 * 60_000
/** A request slot further off than this is not waited for: the sync is put off instead. */
const MAX_POLITE_WAIT_MS = 60_000

/** The host is backed off (it answered 429, here or for another channel): nothing is sent to it. */
class HostBackedOffError extends Error {
  override name = 'HostBackedOffError'
  constructor(
    readonly host: string,
    readonly until: string,
    reason: string,
  ) {
    super(`${host} is backed off until ${until} (${reason})`)
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

/**
 * Runs one request to `url`'s host within the politeness every replica shares: after the
 * reserved slot (spacing between requests), never while the host is backed off, and backing it
 * off for everyone when it answers 429.
 */
async function politely<T>(url: string, { stores, config }: FunctionContext, request: () => Promise<T>): Promise<T> {
  const host = new URL(url).host
  const slot = await stores.documents.reserveHostRequest(host, {
    now: new Date(),
    spacingMs: config.channels.hostSpacingMs,
  })
  if (slot.backoffUntil) throw new HostBackedOffError(host, slot.backoffUntil, slot.backoffReason ?? 'it answered 429')
  const wait = Date.parse(slot.at) - Date.now()
  if (wait > MAX_POLITE_WAIT_MS) throw new HostBackedOffError(host, slot.at, 'too many requests are queued for it')
  if (wait > 0) await sleep(wait)
  try {
    return await request()
  } catch (error) {
    // A 429 of the feed, or yt-dlp meeting a 429 or YouTube's bot check: the host is left alone.
    if (error instanceof RateLimitedError || error instanceof BlockedByYouTubeError) {
      const seconds =
        (error instanceof RateLimitedError ? error.retryAfterSeconds : undefined) ??
        config.channels.rateLimitBackoffSeconds
      const until = new Date(Date.now() + seconds * 1000)
      await stores.documents.backOffHost(host, until, (error as Error).message)
      throw new HostBackedOffError(host, until.toISOString(), (error as Error).message)
    }
    throw error
  }
}

/**
 * Why a video's page no longer plays, from what reading it said: `private` for a private video
 * (or a page that refuses access), `removed` for one that is gone; undefined when the failure
 * says nothing about the video (a network error).
 */
export function availabilityFromError(error: unknown): VideoAvailability | undefined {
  // "Sign in to confirm you're not a bot" is about this server, not the video.
  if (!(error instanceof YtDlpError) || error instanceof BlockedByYouTubeError) return undefined
  if (/private video|sign in|HTTP Error 40[13]\b/i.test(error.message)) return 'private'
  return error instanceof VideoUnavailableError ? 'removed' : undefined
}

/**
 * Whether a video skipped as a live stream is worth reading again: one on air or still being
 * processed at the last read may be done by now; a scheduled one once its start has come
 * (its `publishedAt` is the scheduled start yt-dlp gave). Other videos are not.
 *
 * @example
 * skippedStreamDue({ status: 'skipped', liveStatus: 'is_live', … }, new Date()) // true
 */
export function skippedStreamDue(video: Pick<Video, 'status' | 'liveStatus' | 'publishedAt'>, now: Date): boolean {
  if (video.status !== 'skipped') return false
  if (video.liveStatus === 'is_live' || video.liveStatus === 'post_live') return true
  if (video.liveStatus !== 'is_upcoming') return false
  return video.publishedAt === undefined || Date.parse(video.publishedAt) <= now.getTime()
}

/** What a channel's feed or listing tells of a video. */
type ListedVideo = Pick<NewVideo, 'videoId' | 'url' | 'playlistItem' | 'title' | 'publishedAt'>

/**
 * Of a newest-first list, the videos a scheduled sync should look at: those not known yet and
 * uploaded since the subscription (older ones were left out of the backfill on purpose). A
 * listing without upload dates cannot tell an old video left out of the backfill from a new
 * one; it takes both. `reachedKnown` says whether the list reaches back to a known video.
 */
async function newSinceLastSync(
  videos: ListedVideo[],
  channel: Channel,
  { stores }: FunctionContext,
): Promise<{ videos: ListedVideo[]; reachedKnown: boolean }> {
  const fresh: ListedVideo[] = []
  let reachedKnown = false
  for (const video of videos) {
    if (await stores.documents.getVideo(video.videoId)) reachedKnown = true
    else if (!video.publishedAt || video.publishedAt >= channel.createdAt) fresh.push(video)
  }
  return { videos: fresh, reachedKnown }
}

/**
 * The channel's videos to look at: a backfill's newest N (from the feed when it holds that
 * many, else a yt-dlp listing); a scheduled or manual sync's uploads since the last one, from
 * the feed, or from a listing when the feed fails or does not reach back to a known video (a
 * long gap). `feed` is returned when the feed was read, to tell which videos vanished.
 */
async function listChannel(
  channel: Channel,
  backfill: number | 'all' | undefined,
  context: FunctionContext,
): Promise<{ videos: ListedVideo[]; from: 'feed' | 'listing'; feed?: FeedVideo[] }> {
  const { config, logger } = context
  const feedUrl = channelFeedUrl(config.channels.feedBaseUrl, channel.channelId)
  const readFeed = async () => {
    try {
      return await politely(feedUrl, context, () => fetchChannelFeed(feedUrl, channelFetchOptionsFrom(config)))
    } catch (error) {
      if (!(error instanceof ChannelError)) throw error
      logger.warn({ channelId: channel.channelId, err: error }, 'channel feed failed; listing with yt-dlp')
      return undefined
    }
  }
  const readListing = async (limit: number | undefined) =>
    (
      await politely(channel.listUrl, context, () =>
        listVideos(channel.listUrl, { ...ytdlpOptionsFrom(config, context), ...(limit ? { limit } : {}) }),
      )
    ).videos

  if (backfill !== undefined) {
    if (backfill === 0) return { videos: [], from: 'feed' }
    const feed = backfill !== 'all' && backfill <= FEED_SIZE ? await readFeed() : undefined
    if (feed) return { videos: feed.slice(0, backfill as number), from: 'feed', feed }
    const listed = await readListing(backfill === 'all' ? undefined : backfill)
    return { videos: backfill === 'all' ? listed : listed.slice(0, backfill), from: 'listing' }
  }

  const feed = await readFeed()
  if (feed) {
    const since = await newSinceLastSync(feed, channel, context)
    // A full feed with no known video and every entry new may have dropped uploads off its end.
    const gap =
      feed.length >= FEED_SIZE &&
      !since.reachedKnown &&
      since.videos.length === feed.length &&
      channel.lastSyncAt !== undefined
    if (!gap) return { videos: since.videos, from: 'feed', feed }
    logger.info({ channelId: channel.channelId }, 'the feed does not reach back to a known video; listing with yt-dlp')
  }
  const listed = await readListing(FEED_SIZE * 4)
  return {
    videos: (await newSinceLastSync(listed, channel, context)).videos,
    from: 'listing',
    ...(feed ? { feed } : {}),
  }
}

/**
 * Known videos of the channel that the feed's window should show and does not: each one's page
 * is read once to learn whether it went private or was removed, and it is marked so (never
 * deleted: what it said stays searchable).
 */
async function markVanished(channel: Channel, feed: FeedVideo[], context: FunctionContext): Promise<void> {
  const oldest = feed.at(-1)?.publishedAt
  if (!oldest) return
  const listed = new Set(feed.map((video) => video.videoId))
  const { items } = await context.stores.documents.listVideos({ channelId: channel.channelId, limit: FEED_SIZE * 2 })
  for (const video of items) {
    if (listed.has(video.videoId) || video.availability || !video.publishedAt || video.publishedAt < oldest) continue
    const ytdlp = { ...ytdlpOptionsFrom(context.config, context), videoId: video.videoId }
    try {
      await politely(video.url, context, () => videoInfo(video.url, video.playlistItem, ytdlp))
    } catch (error) {
      const availability = availabilityFromError(error)
      if (!availability) continue
      await context.stores.documents.updateVideo(video.videoId, 'download', video.stages.download.status, {
        availability,
      })
      context.logger.info(
        { channelId: channel.channelId, videoId: video.videoId, availability },
        'video gone from its channel; marked, not deleted',
      )
    }
  }
}

/**
 * Handles `channel.resync.requested`: lists the channel's newest videos, sends `video.discovered`
 * for each one not known yet (a video is created once, so concurrent syncs never send one twice)
 * and again for each live stream it skipped before that may be over now, marks the ones that
 * vanished, and records the sync on the channel, then on its job.
 */
export async function syncChannel(
  event: ReceivedEvent<'channel.resync.requested'>,
  context: FunctionContext,
): Promise<void> {
  const { stores, config, logger } = context
  const { jobId, channelId, backfill } = event.data
  const job = await stores.documents.getJob(jobId)
  // Unknown, or a replay of a sync that ran (one that stopped half-way runs again).
  if (!job || job.discovered || job.status === 'failed') return
  const channel = await stores.documents.getChannel(channelId)
  if (!channel) {
    await stores.documents.failJob(jobId, `channel ${channelId} is not subscribed`)
    return
  }
  const schedule = (failures: number) =>
    nextSyncTime(new Date(), {
      intervalSeconds: channel.intervalSeconds,
      jitterRatio: config.channels.jitterRatio,
      failures,
      maxBackoffSeconds: config.channels.maxBackoffSeconds,
    }).toISOString()

  let listed: Awaited<ReturnType<typeof listChannel>>
  try {
    listed = await listChannel(channel, backfill, context)
  } catch (error) {
    const at = new Date().toISOString()
    if (error instanceof HostBackedOffError) {
      // Not the channel's fault: no failure counted, and it is tried again after the backoff.
      const later = new Date(Math.max(Date.parse(error.until), Date.now()) + 60_000).toISOString()
      await stores.documents.recordChannelSync(channelId, {
        outcome: 'rate-limited',
        at,
        nextSyncAt: later,
        error: error.message,
      })
      context.count('ytrag_channel_syncs_total', 'Channel syncs by outcome (ok, failed, rate-limited)', 1, {
        outcome: 'rate-limited',
      })
      await stores.documents.failJob(jobId, error.message)
      return
    }
    if (!(error instanceof YtDlpError || error instanceof ChannelError)) throw error
    const synced = await stores.documents.recordChannelSync(channelId, {
      outcome: 'failed',
      at,
      nextSyncAt: schedule(channel.consecutiveFailures + 1),
      error: error.message,
    })
    context.count('ytrag_channel_syncs_total', 'Channel syncs by outcome (ok, failed, rate-limited)', 1, {
      outcome: 'failed',
    })
    await stores.documents.failJob(jobId, error.message)
    logger.warn(
      { channelId, failures: synced?.consecutiveFailures, nextSyncAt: synced?.nextSyncAt, err: error },
      'channel sync failed; backing off',
    )
    return
  }

  const found: string[] = []
  const linked: string[] = []
  const lifecycle = videoLifecycle(context)
  const discoveredData = (video: ListedVideo): EventData<'video.discovered'> => ({
    jobId,
    videoId: video.videoId,
    url: video.url,
    force: false,
    speechToTextAllowed: channel.speechToText,
    ...(video.playlistItem ? { playlistItem: video.playlistItem } : {}),
    ...(video.title ? { title: video.title } : {}),
    ...(channel.languages[0] ? { language: channel.languages[0] } : {}),
  })
  for (const listedVideo of listed.videos) {
    const checked = await checkIngestUrl(listedVideo.url, { allowedHosts: config.ingest.allowedHosts })
    if (!checked.ok) {
      logger.warn(
        { channelId, videoId: listedVideo.videoId, url: listedVideo.url, reason: checked.message },
        'listed video skipped',
      )
      continue
    }
    const video = { ...listedVideo, url: checked.url.href }
    const { created, video: stored } = await stores.documents.insertVideo({
      videoId: video.videoId,
      url: video.url,
      channelId,
      ...(channel.title ? { channel: channel.title } : {}),
      ...(video.playlistItem ? { playlistItem: video.playlistItem } : {}),
      ...(video.title ? { title: video.title } : {}),
      ...(video.publishedAt ? { publishedAt: video.publishedAt } : {}),
    })
    // Only the sync that created the video sends it: a concurrent tick or backfill finds it known.
    // One still queued may have been created by this very sync before a crash: it is sent again
    // (same event id, taken once downstream).
    if (!created && stored.status !== 'queued') continue
    if (created) found.push(video.videoId)
    linked.push(video.videoId)
    await lifecycle.discovered(stored, discoveredData(video))
  }
  // A live stream an earlier sync skipped (on air, not started, not processed) is known, so the
  // listing above passes it by: it is tried again here, as a new run, once it may be over. One
  // reset by a run of this sync that stopped before sending it on (queued, nothing sent) is sent
  // now, as the listing does for a video it created.
  const { items: recent } = await stores.documents.listVideos({ channelId, limit: SKIPPED_WINDOW })
  const retried: string[] = []
  for (const known of recent) {
    if (linked.includes(known.videoId)) continue
    const interrupted =
      known.status === 'queued' && known.generation > 0 && known.handoff === undefined && known.liveStatus !== undefined
    if (!interrupted && !skippedStreamDue(known, new Date())) continue
    const again = interrupted ? known : await stores.documents.resetVideo(known.videoId)
    if (!again) continue
    linked.push(known.videoId)
    retried.push(known.videoId)
    const title = known.title || undefined
    await lifecycle.discovered(
      again,
      discoveredData({
        videoId: known.videoId,
        url: known.url,
        ...(known.playlistItem ? { playlistItem: known.playlistItem } : {}),
        ...(title ? { title } : {}),
      }),
    )
  }
  await stores.documents.addJobVideos(jobId, linked)
  if (listed.feed) {
    try {
      await markVanished(channel, listed.feed, context)
    } catch (error) {
      if (!(error instanceof HostBackedOffError)) throw error
      logger.warn({ channelId, err: error }, 'vanished videos not checked this time')
    }
  }
  const synced = await stores.documents.recordChannelSync(channelId, {
    outcome: 'ok',
    at: new Date().toISOString(),
    nextSyncAt: schedule(0),
    videosFound: found.length,
  })
  context.count('ytrag_channel_syncs_total', 'Channel syncs by outcome (ok, failed, rate-limited)', 1, {
    outcome: 'ok',
  })
  // Only now may the job end (a sync that found nothing succeeds here): a client that reads the
  // channel once the job is done must find this sync on it, not the one before.
  await stores.documents.markJobDiscovered(jobId)
  logger.info(
    {
      channelId,
      from: listed.from,
      listed: listed.videos.length,
      found: found.length,
      retried,
      nextSyncAt: synced?.nextSyncAt,
    },
    'channel synced',
  )
}

/**
 * Handles a schedule tick: claims the channels that are due (a concurrent tick cannot claim the
 * same ones) and sends `channel.resync.requested` for each, with a job to follow it by. A tick
 * with nothing due does nothing.
 */
export async function startDueSyncs(context: FunctionContext): Promise<number> {
  const { stores, config, emit, logger } = context
  const now = new Date()
  const leaseUntil = new Date(now.getTime() + CLAIM_LEASE_MS)
  const due = await stores.documents.claimDueChannels(now, leaseUntil, config.channels.maxPerTick)
  for (const [i, channel] of due.entries()) {
    const jobId = randomUUID()
    await stores.documents.createJob({ jobId, url: channel.url })
    try {
      await emit('channel.resync.requested', channel.channelId, {
        jobId,
        channelId: channel.channelId,
        url: channel.url,
        reason: 'scheduled',
      })
    } catch (error) {
      // Not sent: this job never starts, and the claims not sent are given back, so the broker's
      // retry of this tick finds the channels due again instead of waiting out the lease.
      await stores.documents.failJob(jobId, `the event broker did not accept the sync: ${(error as Error).message}`)
      for (const unsent of due.slice(i)) await stores.documents.releaseChannelClaim(unsent.channelId, leaseUntil, now)
      throw error
    }
  }
  if (due.length) logger.info({ channels: due.map((channel) => channel.channelId) }, 'scheduled syncs started')
  return due.length
}
