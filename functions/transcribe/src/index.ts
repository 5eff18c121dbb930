import { segmentTranscriptionSchema, type SegmentTranscription, type StoredTranscript } from '@ytrag/domain'
import { scratchSpaceCheck, videoLifecycle, type FunctionContext, type FunctionDefinition } from '@ytrag/function'
import { joinSegmentTranscripts } from '@ytrag/media'
import { ProviderError } from '@ytrag/providers'
import { blobKeys, decodeJsonBlob, transcriptBlob, type Video } from '@ytrag/stores'

const json = (value: unknown) => JSON.stringify(value)

/**
 * Joins every segment's transcription into the video's transcript and sends `transcript.ready`,
 * once: of the deliveries that find all segments done, only the one that claims the stage goes on.
 */
async function joinAndAnnounce(jobId: string, video: Video, count: number, context: FunctionContext): Promise<void> {
  const { stores, logger } = context
  const { videoId } = video
  const parts: SegmentTranscription[] = []
  for (let index = 0; index < count; index++) {
    const body = await stores.blobs.get(blobKeys.segmentTranscription(videoId, index))
    if (!body)
      throw new Error(`the transcription of segment ${index} of ${videoId} is recorded but missing from the blob store`)
    parts.push(decodeJsonBlob(body, blobKeys.segmentTranscription(videoId, index), segmentTranscriptionSchema))
  }
  const segments = joinSegmentTranscripts(parts)
  const language = parts.find((part) => part.language)?.language ?? 'und'
  const model = parts[0]!.model
  const transcript: StoredTranscript = { videoId, source: 'speech-to-text', language, model, segments }
  const blobKey = await transcriptBlob.write(stores.blobs, transcript)
  // Of the deliveries racing here, the one that claims the stage records and sends the transcript;
  // should its send fail, a redelivery finds the stage done and sends the recorded event again.
  const claimed = await videoLifecycle(context).claimFinish(video, 'transcribe', 'running', {
    update: { transcript: { source: 'speech-to-text', language, model, blobKey, segmentCount: segments.length } },
    send: [
      {
        name: 'transcript.ready',
        data: { jobId, videoId, blobKey, source: 'speech-to-text', language, model, generation: video.generation },
      },
    ],
  })
  if (!claimed) {
    logger.debug({ videoId }, 'another delivery announced the transcript')
    return
  }
  logger.info({ videoId, segments: count, language }, 'speech-to-text transcript ready')
}

/**
 * `transcribe`: one delivery transcribes one audio segment through the speech-to-text provider,
 * makes its times absolute, stores the result and records it. The delivery that completes the
 * last missing segment, in whatever order they finish and however often each is delivered,
 * joins them and sends `transcript.ready` once. A refusal by the provider fails the video with
 * the reason; a rate limit or outage answers 5xx so the broker retries.
 *
 * @example
 * ```ts
 * const app = createFunctionApp(transcribe, dependencies)
 * ```
 */
export const transcribe: FunctionDefinition = {
  name: 'transcribe',
  counters: [{ name: 'ytrag_transcribed_seconds_total', help: 'Seconds of audio sent to speech-to-text' }],
  // Room in the scratch folder for a segment's audio while it is sent to the model.
  readiness: () => ({ disk: scratchSpaceCheck() }),
  on: {
    'audio.segment.ready': async (event, context) => {
      const { stores, providers, logger, count: countMetric } = context
      const { jobId, videoId, index, count, startSeconds, durationSeconds, blobKey, language } = event.data
      const lifecycle = videoLifecycle(context)
      const video = await lifecycle.workFor('transcribe', event.data)
      if (!video) return

      const fail = (reason: string) => lifecycle.fail(video, 'transcribe', reason, jobId)
      const stt = providers.speechToText
      if (!stt) return fail('speech-to-text is not configured')

      const resultKey = blobKeys.segmentTranscription(videoId, index)
      // A redelivery after the provider answered: the paid work is not done twice.
      if (!(await stores.blobs.head(resultKey))) {
        const audio = await stores.blobs.get(blobKey)
        if (!audio) throw new Error(`audio segment ${blobKey} of ${videoId} is missing`)
        let heard
        try {
          heard = await stt.transcribe({
            data: audio,
            filename: `segment-${index}.ogg`,
            ...(language ? { language } : {}),
          })
        } catch (error) {
          if (error instanceof ProviderError && !error.retryable)
            return fail(`speech-to-text failed on segment ${index + 1} of ${count}: ${error.message}`)
          throw error
        }
        const part: SegmentTranscription = {
          index,
          startSeconds,
          model: stt.model,
          ...(heard.language ? { language: heard.language } : {}),
          segments: heard.segments.map((segment) => ({
            start: round(segment.start + startSeconds),
            end: round(Math.min(segment.end, durationSeconds) + startSeconds),
            text: segment.text,
          })),
        }
        await stores.blobs.put(resultKey, json(part), 'application/json')
        countMetric('ytrag_transcribed_seconds_total', 'Seconds of audio sent to speech-to-text', durationSeconds)
      }

      const after = await stores.documents.recordTranscribedSegment(videoId, { index, seconds: durationSeconds })
      if (!after?.audio) return
      logger.info({ videoId, segment: index, done: after.audio.segmentsDone.length, count }, 'segment transcribed')
      if (after.audio.segmentsDone.length < count) return
      await joinAndAnnounce(jobId, after, count, context)
    },
  },
}

const round = (seconds: number) => Math.round(seconds * 1000) / 1000
