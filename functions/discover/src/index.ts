import { videoLifecycle, type FunctionDefinition } from '@ytrag/function'
import { blobKeys, type ListedInfo, type Video } from '@ytrag/stores'
import {
  BlockedByYouTubeError,
  checkIngestUrl,
  isNotStartedError,
  listVideos,
  underHostBackoff,
  VideoUnavailableError,
  youtubeVideoId,
  ytdlpOptionsFrom,
  ytdlpReadiness,
  type VideoList,
} from '@ytrag/youtube'
import { startDueSyncs, syncChannel } from './channels.ts'
import { reapStuckWork } from './reaper.ts'

/**
 * `discover`: expands the URL of an ingest request (a video, a playlist or a channel) into its
 * videos with a flat yt-dlp listing, links them to the job, and sends each one that needs work
 * downstream. A video already indexed is skipped unless the request forces a re-ingest. It also
 * runs the channel re-sync: a schedule tick starts the syncs that are due, and each
 * `channel.resync.requested` lists that channel's newest uploads. The same tick runs the reaper,
 * which re-drives (then fails) videos that stopped moving.
 *
 * @example
 * ```ts
 * const app = createFunctionApp(discover, dependencies)
 * ```
 */
export const discover: FunctionDefinition = {
  name: 'discover',
  counters: [
    {
      name: 'ytrag_channel_syncs_total',
      help: 'Channel syncs by outcome (ok, failed, rate-limited)',
      labels: { outcome: ['ok', 'failed', 'rate-limited'] },
    },
  ],
  // yt-dlp there and recent enough: asked once at start-up, logged, and said by /health/ready.
  readiness: ({ config, logger }) => ({ ytdlp: ytdlpReadiness(config.tools.ytdlpPath, config.ytdlp, logger) }),
  onPing: async (_event, context) => {
    await startDueSyncs(context)
    await reapStuckWork(context)
  },
  on: {
    'channel.resync.requested': syncChannel,
    'ingest.requested': async (event, context) => {
      const { stores, config, logger } = context
      const { jobId, url, language, force, speechToText } = event.data
      const job = await stores.documents.getJob(jobId)
      if (!job) {
        logger.warn({ jobId }, 'ingest request for a job that does not exist; ignored')
        return
      }
      // A replay after discovery finished (or failed) has nothing left to do; one that finds the
      // job half-way (videos linked, not marked discovered) repeats the whole step.
      if (job.discovered || job.status === 'failed') return

      let listing: VideoList
      // YouTube refusing this server backs its host off for every replica; the job fails with the
      // settings that answer it, at once while the backoff lasts (see underHostBackoff).
      const backoff = {
        store: stores.documents,
        backoffSeconds: config.channels.rateLimitBackoffSeconds,
        onBackoff: (details: object) => {
          logger.warn(details, 'YouTube refuses this server; its host is backed off')
          context.count(
            'ytrag_ytdlp_blocked_total',
            'Times a site refused this server (a bot check, a 429) and its host was backed off',
            1,
          )
        },
      }
      try {
        listing = await underHostBackoff(url, backoff, () => listVideos(url, ytdlpOptionsFrom(config, context)))
      } catch (error) {
        if (error instanceof VideoUnavailableError || error instanceof BlockedByYouTubeError) {
          await stores.documents.failJob(jobId, error.message)
          return
        }
        // YouTube describes no stream or premiere before it starts; its URL names the video, which
        // goes on like any other, for download to skip until it has been shown.
        const named = youtubeVideoId(url)
        if (isNotStartedError(error) && named) listing = { kind: 'video', videos: [{ videoId: named, url }] }
        else throw error
      }
      // A listing may point elsewhere (an embed on another site); the allow-list holds for those
      // too. Each video is kept under its canonical URL (a channel's shorts tab lists /shorts/ID).
      const allowed = []
      for (const found of listing.videos) {
        const checked = await checkIngestUrl(found.url, { allowedHosts: config.ingest.allowedHosts })
        if (checked.ok) allowed.push({ ...found, url: checked.url.href })
        else
          logger.warn(
            { jobId, videoId: found.videoId, url: found.url, reason: checked.message },
            'listed video skipped',
          )
      }
      const videos = allowed.slice(0, config.ingest.maxVideosPerJob)
      if (allowed.length > videos.length) {
        logger.warn(
          { jobId, found: allowed.length, kept: videos.length },
          'listing cut to YOUTUBE_RAG__INGEST__MAX_VIDEOS_PER_JOB',
        )
      }

      const toSend: { found: (typeof videos)[number]; video: Video }[] = []
      for (const found of videos) {
        const { created, video } = await stores.documents.insertVideo({
          videoId: found.videoId,
          url: found.url,
          ...(found.playlistItem ? { playlistItem: found.playlistItem } : {}),
          ...(found.title ? { title: found.title } : {}),
          ...(found.channelId ? { channelId: found.channelId } : {}),
          ...(found.channel ? { channel: found.channel } : {}),
          ...(found.publishedAt ? { publishedAt: found.publishedAt } : {}),
          ...(found.durationSeconds ? { durationSeconds: found.durationSeconds } : {}),
        })
        // A forced re-ingest starts the video over whatever state it is in (a new generation, so
        // the old run's events are told apart); a failed video gets another try, and so does a
        // skipped one (a live stream, maybe over by now). A queued one may
        // have lost its event in a crash before it was sent: it is sent again under the same id,
        // which downstream takes once. One in progress is left to its run (the reaper watches it).
        const again = force || speechToText || video.status === 'failed' || video.status === 'skipped'
        const current = again ? await stores.documents.resetVideo(found.videoId) : video
        if (current && (created || again || current.status === 'queued')) toSend.push({ found, video: current })
      }
      // A video a page holds itself was extracted whole by the listing: download takes that
      // instead of reading the page again (one yt-dlp run per video fewer), while it is fresh.
      const listedAt = new Date().toISOString()
      for (const { found } of toSend) {
        if (!found.listed || found.playlistItem === undefined) continue
        const listed: ListedInfo = { page: found.url, playlistItem: found.playlistItem, listedAt, info: found.listed }
        await stores.blobs.put(
          blobKeys.listedInfo(found.videoId),
          new TextEncoder().encode(JSON.stringify(listed)),
          'application/json',
        )
      }
      const lifecycle = videoLifecycle(context)
      for (const { found, video } of toSend) {
        await lifecycle.discovered(video, {
          jobId,
          videoId: found.videoId,
          url: found.url,
          force,
          ...(speechToText ? { speechToText } : {}),
          ...(found.playlistItem ? { playlistItem: found.playlistItem } : {}),
          ...(found.title ? { title: found.title } : {}),
          ...(language ? { language } : {}),
        })
      }
      // Linked only after the events are out: a crash before this point leaves the job queued, and
      // the broker's redelivery repeats the whole step.
      await stores.documents.addJobVideos(
        jobId,
        videos.map((video) => video.videoId),
      )
      await stores.documents.markJobDiscovered(jobId)
      logger.info({ jobId, videos: videos.length, sent: toSend.length }, 'discovered')
    },
  },
}
