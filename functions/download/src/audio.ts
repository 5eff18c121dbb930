// The speech-to-text half of `download`: the video's audio, cut into segments at pauses, each
// stored and announced on its own so that separate deliveries transcribe them in parallel.
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { videoLifecycle, type FunctionContext } from '@ytrag/function'
import { detectSilences, encodeSegments, FfmpegError, ffmpegPath, planSegments, toSpeechWav } from '@ytrag/media'
import { blobKeys, type Video } from '@ytrag/stores'
import { downloadAudio, scratchDir, ytdlpOptionsFrom, type VideoInfo } from '@ytrag/youtube'

/** 5400 → '1:30:00'. */
const clock = (seconds: number) => {
  const s = Math.round(seconds)
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

/** Why a video is refused for length, naming the setting that decides it. */
const tooLongReason = (seconds: number, max: number) =>
  `the video is ${clock(seconds)} long; speech-to-text takes videos up to ${clock(max)} (YOUTUBE_RAG__AUDIO__MAX_DURATION_SECONDS)`

/**
 * Downloads, converts, cuts, stores and announces the audio of one video. Gives the reason when
 * the video cannot be transcribed (too long, no audio, unreadable media); throws on what a retry
 * may fix (a store, the broker, a network error).
 */
export async function sendAudioSegments(
  info: VideoInfo,
  video: Video,
  request: { jobId: string; videoId: string; language?: string },
  context: FunctionContext,
): Promise<string | undefined> {
  const { stores, config, logger } = context
  const { jobId, videoId, language } = request
  const max = config.audio.maxDurationSeconds
  // Refused before any download: the length is in the metadata already read.
  if (info.durationSeconds && info.durationSeconds > max) return tooLongReason(info.durationSeconds, max)

  const ffmpeg = ffmpegPath(config.tools.ffmpegPath)
  const dir = await scratchDir('audio')
  try {
    const source = await downloadAudio(info, dir, {
      ...ytdlpOptionsFrom(config, context),
      timeoutMs: config.audio.downloadTimeoutSeconds * 1000,
    })
    let wav
    try {
      wav = await toSpeechWav(source, join(dir, 'speech.wav'), { ffmpeg })
    } catch (error) {
      if (error instanceof FfmpegError) return `the audio could not be read: ${error.message}`
      throw error
    }
    if (wav.seconds > max) return tooLongReason(wav.seconds, max)
    if (wav.seconds < 0.5) return 'the video has no audio to transcribe'

    const plan = planSegments(wav.seconds, await detectSilences(wav.file, { ffmpeg }), {
      maxSeconds: config.audio.segmentSeconds,
    })
    const segments = await encodeSegments(wav.file, plan, join(dir, 'segments'), {
      ffmpeg,
      maxBytes: config.audio.segmentMaxBytes,
    })

    // A forced re-run must not reuse transcriptions of the audio as it was cut before.
    await stores.blobs.deleteByPrefix(`${blobKeys.videoPrefix(videoId)}audio/`)
    for (const segment of segments) {
      await stores.blobs.put(blobKeys.audioSegment(videoId, segment.index), await readFile(segment.file), 'audio/ogg')
    }
    // The plan, the step's end and the segments' events in one write, before any is announced:
    // whichever transcribes first finds the plan, and a redelivery sends the same events again.
    const sent = await videoLifecycle(context).finish(video, 'download', {
      update: { audio: { segmentCount: segments.length, seconds: wav.seconds, segmentsDone: [], secondsDone: 0 } },
      stages: { transcribe: 'running' },
      send: segments.map((segment) => ({
        name: 'audio.segment.ready' as const,
        key: segment.index,
        data: {
          jobId,
          videoId,
          index: segment.index,
          count: segments.length,
          startSeconds: segment.start,
          durationSeconds: segment.end - segment.start,
          blobKey: blobKeys.audioSegment(videoId, segment.index),
          generation: video.generation,
          ...(language ? { language } : {}),
        },
      })),
    })
    if (!sent) return undefined
    logger.info(
      { videoId, seconds: wav.seconds, segments: segments.length },
      'audio cut into segments for speech-to-text',
    )
    return undefined
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
