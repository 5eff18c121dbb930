import { scratchSpaceCheck, videoLifecycle, type FunctionDefinition } from '@ytrag/function'
import type { StoredTranscript } from '@ytrag/domain'
import { blobKeys, decodeJsonBlob, listedInfoSchema, transcriptBlob, type Video } from '@ytrag/stores'
import { transcriptFromCaptions, VttError } from '@ytrag/transcript'
import {
  BlockedByYouTubeError,
  chooseCaptionTrack,
  downloadCaptions,
  isNotStartedError,
  liveSkipReason,
  originalLanguage,
  spokenLanguage,
  underHostBackoff,
  videoInfo,
  videoInfoFromListing,
  VideoUnavailableError,
  ytdlpOptionsFrom,
  ytdlpReadiness,
} from '@ytrag/youtube'
import { sendAudioSegments } from './audio.ts'

/**
 * Why a caption file can't be the video's own, or undefined when it may be: a cue that starts
 * more than `slackSeconds` after the video's end (a hostile page pairing a short clip with a
 * long text to get it indexed). Without a known duration nothing is decided.
 *
 * @example
 * captionsPastEnd([{ start: 900, end: 901, text: '…' }], 60, 30) // 'a cue starts at 900 s, …'
 */
export function captionsPastEnd(
  segments: { start: number }[],
  durationSeconds: number | undefined,
  slackSeconds: number,
): string | undefined {
  if (durationSeconds === undefined) return undefined
  const late = segments.find((segment) => segment.start > durationSeconds + slackSeconds)
  if (!late) return undefined
  return (
    `a cue starts at ${Math.round(late.start)} s, past the video's end at ${Math.round(durationSeconds)} s ` +
    `(more than YOUTUBE_RAG__INGEST__CAPTION_SLACK_SECONDS = ${slackSeconds} s after it); the captions are not the video's`
  )
}

/**
 * How long a listing's info JSON stands in for reading the page again: a site's media and
 * caption URLs may be signed for a while only, and a delivery retried later reads afresh.
 */
export const LISTED_INFO_MAX_AGE_MS = 30 * 60_000

export const NO_CAPTIONS_REASON = 'no captions and speech-to-text is not configured'
export const NO_SPEECH_TO_TEXT_REASON = "no captions, and the channel's subscription does not allow speech-to-text"

/**
 * `download`: reads a video's metadata (its chapters and live status among them) and its
 * captions with yt-dlp (the video's original language first, then the language asked for, then
 * English; creator captions before auto-captions: see `chooseCaptionTrack`), stores the caption
 * file and the transcript built from it with which track was taken and why, and sends
 * `transcript.ready`. Without captions (or when speech-to-text is asked for) and with a
 * speech-to-text provider, it cuts the audio into segments and sends one `audio.segment.ready`
 * each instead. A video that cannot be had (private, removed, too long, no captions and no
 * provider) is marked failed with the reason, not retried. A live stream on air, one not started
 * and one not processed yet are skipped with the reason: they are read when tried again (a
 * re-ingest, or the channel's next sync).
 *
 * @example
 * ```ts
 * const app = createFunctionApp(download, dependencies)
 * ```
 */
export const download: FunctionDefinition = {
  name: 'download',
  // yt-dlp there and recent enough (asked once at start-up, logged, and said by /health/ready),
  // and room in the scratch folder for a video's captions and audio.
  readiness: ({ config, logger }) => ({
    ytdlp: ytdlpReadiness(config.tools.ytdlpPath, config.ytdlp, logger),
    disk: scratchSpaceCheck(),
  }),
  on: {
    'video.discovered': async (event, context) => {
      const { stores, config, providers } = context
      const { jobId, videoId, url, playlistItem, language, speechToText, speechToTextAllowed } = event.data
      const lifecycle = videoLifecycle(context)
      const video = await lifecycle.workFor('download', event.data)
      if (!video) return

      const fail = (reason: string) => lifecycle.fail(video, 'download', reason, jobId)
      const ytdlp = ytdlpOptionsFrom(config, context)

      if (!(await lifecycle.start(video, 'download'))) return
      // YouTube refusing this server (a bot check, a 429) backs its host off for every replica,
      // and fails this video and the next ones at once, saying which settings answer it, rather
      // than answering 5xx for the Broker to retry into the refusal (see underHostBackoff).
      const backoff = {
        store: stores.documents,
        backoffSeconds: config.channels.rateLimitBackoffSeconds,
        onBackoff: (details: object) => {
          context.logger.warn(details, 'YouTube refuses this server; its host is backed off')
          context.count(
            'ytrag_ytdlp_blocked_total',
            'Times a site refused this server (a bot check, a 429) and its host was backed off',
            1,
          )
        },
      }
      try {
        await underHostBackoff(url, backoff, () => readAndStore(video))
      } catch (error) {
        if (error instanceof BlockedByYouTubeError) return await fail(error.message)
        // YouTube refuses a stream or premiere not started with an error, not with its info.
        if (isNotStartedError(error))
          return void (await lifecycle.skip(video, 'download', liveSkipReason('is_upcoming')!, {
            liveStatus: 'is_upcoming',
          }))
        if (error instanceof VideoUnavailableError) return await fail(error.message)
        if (error instanceof VttError) return await fail(`the captions could not be read: ${error.message}`)
        throw error
      }

      /**
       * The video as discover's listing read it from the same page (a page of several videos),
       * while that is fresh: one yt-dlp run and one fetch of the page fewer per video. Anything
       * amiss (no blob, another shape, another page, too old) reads the page as before.
       */
      async function fromListing() {
        if (playlistItem === undefined) return undefined
        const key = blobKeys.listedInfo(videoId)
        const bytes = await stores.blobs.get(key).catch(() => undefined)
        if (!bytes) return undefined
        let listed
        try {
          listed = decodeJsonBlob(bytes, key, listedInfoSchema)
        } catch (error) {
          context.logger.warn(
            { videoId, key, err: error },
            "the listing's info of this video is unreadable; reading the page again",
          )
          return undefined
        }
        const fresh = Date.now() - Date.parse(listed.listedAt) <= LISTED_INFO_MAX_AGE_MS
        if (!fresh || listed.page !== url || listed.playlistItem !== playlistItem) return undefined
        return videoInfoFromListing(listed.info, url, playlistItem, videoId)
      }

      async function readAndStore(video: Video): Promise<void> {
        const info = (await fromListing()) ?? (await videoInfo(url, playlistItem, { ...ytdlp, videoId }))
        const spoken = originalLanguage(info)
        const described = await lifecycle.progress(video, 'download', {
          ...(info.title ? { title: info.title } : {}),
          ...(info.channelId ? { channelId: info.channelId } : {}),
          ...(info.channel ? { channel: info.channel } : {}),
          ...(info.publishedAt ? { publishedAt: info.publishedAt } : {}),
          ...(info.durationSeconds ? { durationSeconds: info.durationSeconds } : {}),
          ...(spoken ? { language: spoken } : {}),
          ...(info.liveStatus ? { liveStatus: info.liveStatus } : {}),
          ...(info.chapters ? { chapters: info.chapters } : {}),
          // As the page offers it now: a page that stopped offering a file clears the old one.
          mediaUrl: info.mediaUrl ?? null,
        })
        if (!described) return
        // Not a failure: a stream on air (or just ended) has no complete captions or audio yet.
        const notReady = liveSkipReason(info.liveStatus, info.publishedAt)
        if (notReady) return void (await lifecycle.skip(described, 'download', notReady))
        const track = speechToText ? undefined : chooseCaptionTrack(info, language)
        if (!track) {
          if (!providers.speechToText)
            return await fail(speechToText ? 'speech-to-text was asked for but is not configured' : NO_CAPTIONS_REASON)
          if (speechToTextAllowed === false) return await fail(NO_SPEECH_TO_TEXT_REASON)
          const refused = await sendAudioSegments(
            info,
            described,
            { jobId, videoId, ...(language ? { language } : {}) },
            context,
          )
          if (refused) return await fail(refused)
          return
        }

        const vtt = await downloadCaptions(info, track, { ...ytdlp, maxBytes: config.ingest.captionMaxBytes })
        const segments = transcriptFromCaptions(vtt)
        if (segments.length === 0) return await fail(`the ${track.language} ${track.source} are empty`)
        const pastEnd = captionsPastEnd(segments, info.durationSeconds, config.ingest.captionSlackSeconds)
        if (pastEnd) return await fail(`the ${track.language} ${track.source} were refused: ${pastEnd}`)

        // The words' language (`en`), and the track as listed when that differs (YouTube's `en-orig`).
        const captionLanguage = spokenLanguage(track.language)
        const transcript: StoredTranscript = { videoId, source: track.source, language: captionLanguage, segments }
        await stores.blobs.put(blobKeys.captions(videoId, track.language), vtt, 'text/vtt')
        const transcriptKey = await transcriptBlob.write(stores.blobs, transcript)
        await lifecycle.finish(described, 'download', {
          update: {
            transcript: {
              source: track.source,
              language: captionLanguage,
              ...(track.language !== captionLanguage ? { track: track.language } : {}),
              choice: track.choice,
              blobKey: transcriptKey,
              segmentCount: segments.length,
            },
          },
          stages: { transcribe: 'skipped' },
          send: [
            {
              name: 'transcript.ready',
              data: {
                jobId,
                videoId,
                blobKey: transcriptKey,
                source: track.source,
                language: captionLanguage,
                generation: video.generation,
              },
            },
          ],
        })
      }
    },
  },
}
