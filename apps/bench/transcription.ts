// Wall time of transcribing one video's segments in parallel (as separate deliveries reach
// separate replicas) versus one after another. The OpenAI-compatible test server stands in for
// Whisper and takes time in proportion to the audio, like the real API.
//
//   npm run bench:transcription -- [--segment-seconds 20] [--ms-per-audio-second 40]
import { mkdtempSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startFunctionUnderTest } from '@ytrag/function/testing'
import { detectSilences, encodeSegments, planSegments, toSpeechWav } from '@ytrag/media'
import { HARBOUR_STORY, makeSpeechFixture, speechFixtureTranscriber } from '@ytrag/media/testing'
import { startOpenAiTestServer } from '@ytrag/providers/testing'
import { blobKeys } from '@ytrag/stores'
import { transcribe } from '@ytrag/transcribe'

const { values } = parseArgs({
  options: {
    'segment-seconds': { type: 'string', default: '20' },
    'ms-per-audio-second': { type: 'string', default: '40' },
  },
})
const segmentSeconds = Number(values['segment-seconds'])
const msPerAudioSecond = Number(values['ms-per-audio-second'])

const dir = mkdtempSync(join(tmpdir(), 'ytrag-bench-stt-'))
try {
  const speech = await makeSpeechFixture(dir, [...HARBOUR_STORY])
  const wav = await toSpeechWav(speech.file, join(dir, 'speech.wav'))
  const segments = await encodeSegments(
    wav.file,
    planSegments(wav.seconds, await detectSilences(wav.file), { maxSeconds: segmentSeconds }),
    join(dir, 'segments'),
  )
  const transcriber = speechFixtureTranscriber(speech.timeline, {
    maxSeconds: segmentSeconds,
    delayMsPerAudioSecond: msPerAudioSecond,
  })
  const openai = await startOpenAiTestServer({ transcriptionScript: transcriber.script })

  const run = async (mode: 'parallel' | 'sequential') => {
    const fn = await startFunctionUnderTest(transcribe, { YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl })
    const videoId = `bench-${mode}`
    await fn.stores.documents.createJob({ jobId: 'bench', url: 'https://www.youtube.com/watch?v=x' })
    await fn.stores.documents.insertVideo({ videoId, url: 'https://www.youtube.com/watch?v=x' })
    await fn.stores.documents.updateVideo(videoId, 'transcribe', 'running', {
      audio: { segmentCount: segments.length, seconds: wav.seconds, segmentsDone: [], secondsDone: 0 },
    })
    for (const segment of segments)
      await fn.stores.blobs.put(
        blobKeys.audioSegment(videoId, segment.index),
        await readFile(segment.file),
        'audio/ogg',
      )
    const deliver = (index: number) =>
      fn.deliver('audio.segment.ready', videoId, {
        jobId: 'bench',
        videoId,
        index,
        count: segments.length,
        startSeconds: segments[index]!.start,
        durationSeconds: segments[index]!.end - segments[index]!.start,
        blobKey: blobKeys.audioSegment(videoId, index),
      })
    const started = performance.now()
    if (mode === 'parallel') await Promise.all(segments.map((segment) => deliver(segment.index)))
    else for (const segment of segments) await deliver(segment.index)
    const seconds = (performance.now() - started) / 1000
    const announced = fn.sink.events.filter((event) => event.name === 'transcript.ready').length
    await fn.close()
    if (announced !== 1) throw new Error(`${mode}: transcript.ready sent ${announced} times`)
    return seconds
  }

  const sequential = await run('sequential')
  const parallel = await run('parallel')
  await openai.close()
  console.log(
    `audio: ${wav.seconds.toFixed(1)} s in ${segments.length} segments of at most ${segmentSeconds} s; stand-in API: ${msPerAudioSecond} ms per audio second`,
  )
  console.log(`sequential: ${sequential.toFixed(2)} s`)
  console.log(`parallel:   ${parallel.toFixed(2)} s  (${(sequential / parallel).toFixed(1)}x faster)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
