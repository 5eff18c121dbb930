import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import type { StoredTranscript } from '@ytrag/domain'
import { blobKeys, transcriptBlob } from '@ytrag/stores'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { indexer } from '../src/index.ts'

const videoId = 'vid-indexer-1'
const jobId = 'job-indexer-1'
const transcript: StoredTranscript = {
  videoId,
  source: 'captions',
  language: 'en',
  segments: Array.from({ length: 40 }, (_, i) => ({
    start: i * 4,
    end: i * 4 + 4,
    text: i === 33 ? 'Here the zeppelin finally lands in the hangar.' : `Sentence number ${i} about ordinary things.`,
  })),
}

describe('indexer over HTTP', () => {
  let fn: FunctionUnderTest
  beforeEach(async () => {
    fn = await startFunctionUnderTest(indexer)
    await fn.stores.documents.createJob({ jobId, url: 'https://www.youtube.com/watch?v=x' })
    await fn.stores.documents.insertVideo({
      videoId,
      url: 'https://www.youtube.com/watch?v=vid-indexer-1',
      title: 'A talk',
    })
    await fn.stores.documents.addJobVideos(jobId, [videoId])
    await transcriptBlob.write(fn.stores.blobs, transcript)
  })
  afterEach(() => fn.close())

  const data = { jobId, videoId, blobKey: blobKeys.transcript(videoId), source: 'captions' as const, language: 'en' }

  for (const mode of ['binary', 'structured'] as const) {
    it(`indexes a transcript delivered in ${mode} mode and emits video.indexed`, async () => {
      const answer = await fn.deliver('transcript.ready', videoId, data, { mode })
      expect(answer.status).toBe(202)
      const video = await fn.stores.documents.getVideo(videoId)
      expect(video?.status).toBe('indexed')
      expect(video?.chunkCount).toBeGreaterThan(1)
      expect(await fn.stores.chunks.countVideo(videoId)).toBe(video?.chunkCount)
      const [hit] = await fn.stores.chunks.search({ text: 'zeppelin hangar', limit: 3 })
      expect(hit?.videoId).toBe(videoId)
      // The chunk starts at most 20 s before the sentence it holds (which starts at 132 s).
      expect(132 - hit!.start).toBeLessThanOrEqual(20)
      expect(hit!.start).toBeLessThanOrEqual(132)
      expect(fn.sink.events.map((event) => [event.name, event.subject, event.source])).toEqual([
        ['video.indexed', videoId, '/functions/indexer'],
      ])
      expect(fn.sink.events[0]?.data).toMatchObject({ jobId, videoId, chunkCount: video?.chunkCount })
      const job = await fn.stores.documents.getJob(jobId)
      expect(job?.videos).toEqual({ total: 1, indexed: 1, failed: 0, skipped: 0 })
    })
  }

  it("gives each chunk the video's chapter it starts in", async () => {
    const chapters = [
      { title: 'Ordinary things', start: 0, end: 100 },
      { title: 'The zeppelin', start: 100, end: 160 },
    ]
    await fn.stores.documents.updateVideo(videoId, 'download', 'done', { chapters })
    expect((await fn.deliver('transcript.ready', videoId, data)).status).toBe(202)
    const hits = await fn.stores.chunks.search({ text: 'sentence ordinary zeppelin', limit: 100 })
    expect(hits.length).toBe((await fn.stores.documents.getVideo(videoId))?.chunkCount)
    for (const hit of hits) {
      const expected = hit.start < 100 ? { title: 'Ordinary things', start: 0 } : { title: 'The zeppelin', start: 100 }
      expect(hit.chapter, `chunk at ${hit.start}`).toEqual(expected)
    }
    expect(new Set(hits.map((hit) => hit.chapter?.title))).toEqual(new Set(['Ordinary things', 'The zeppelin']))
  })

  it('gives no chapter to the chunks of a video without chapters', async () => {
    expect((await fn.deliver('transcript.ready', videoId, data)).status).toBe(202)
    const hits = await fn.stores.chunks.search({ text: 'sentence ordinary zeppelin', limit: 100 })
    expect(hits.length).toBeGreaterThan(1)
    expect(hits.filter((hit) => 'chapter' in hit)).toEqual([])
  })

  it('changes nothing when the same event is delivered twice, and sends the same video.indexed again', async () => {
    expect((await fn.deliver('transcript.ready', videoId, data, { id: 'same-id' })).status).toBe(202)
    const before = await fn.stores.documents.getVideo(videoId)
    const hitsBefore = await fn.stores.chunks.search({ text: 'sentence ordinary', limit: 50 })
    expect((await fn.deliver('transcript.ready', videoId, data, { id: 'same-id' })).status).toBe(202)
    expect(await fn.stores.documents.getVideo(videoId)).toEqual(before)
    expect(await fn.stores.chunks.search({ text: 'sentence ordinary', limit: 50 })).toEqual(hitsBefore)
    // The redelivery may be the broker's retry after the first send was refused: it sends the
    // recorded event again, under the same deterministic id, so downstream takes it once.
    const [first, again] = fn.sink.events
    expect(fn.sink.events).toHaveLength(2)
    expect(again).toMatchObject({ id: first!.id, name: 'video.indexed', data: first!.data })
    expect(first!.id).toBe(`${videoId}/index/0/video.indexed`)
  })

  it('gives the same chunks and one video.indexed for an event delivered three times at once and three in a row', async () => {
    const parallel = await Promise.all(
      [1, 2, 3].map(() => fn.deliver('transcript.ready', videoId, data, { id: 'triple' })),
    )
    expect(parallel.map((answer) => answer.status)).toEqual([202, 202, 202])
    const chunkCount = (await fn.stores.documents.getVideo(videoId))!.chunkCount
    const hits = await fn.stores.chunks.search({ text: 'sentence ordinary', limit: 100 })
    for (let i = 0; i < 3; i++)
      expect((await fn.deliver('transcript.ready', videoId, data, { id: 'triple' })).status).toBe(202)
    expect(await fn.stores.chunks.countVideo(videoId)).toBe(chunkCount)
    expect(await fn.stores.chunks.search({ text: 'sentence ordinary', limit: 100 })).toEqual(hits)
    expect(new Set(fn.sink.events.map((event) => event.id))).toEqual(new Set([`${videoId}/index/0/video.indexed`]))
    expect(fn.sink.events.every((event) => (event.data as { chunkCount: number }).chunkCount === chunkCount)).toBe(true)
  })

  it('removes the chunks it wrote when the video was deleted while it indexed', async () => {
    // Deleted between reading the video and writing its chunks: the lifecycle finds it gone.
    const original = fn.stores.chunks.replaceVideoChunks.bind(fn.stores.chunks)
    fn.stores.chunks.replaceVideoChunks = async (id, chunks) => {
      await fn.stores.documents.deleteVideo(id)
      await original(id, chunks)
    }
    expect((await fn.deliver('transcript.ready', videoId, data)).status).toBe(202)
    expect(await fn.stores.chunks.countVideo(videoId)).toBe(0)
    expect(await fn.stores.blobs.head(blobKeys.transcript(videoId))).toBeUndefined()
    expect(fn.sink.events).toEqual([])
  })

  it('answers 500 so the broker retries when the transcript blob is missing', async () => {
    const answer = await fn.deliver('transcript.ready', videoId, { ...data, blobKey: 'videos/nope/transcript.json' })
    expect(answer.status).toBe(500)
    expect(((await answer.json()) as { error: { message: string } }).error.message).toMatch(/missing/)
    expect(fn.sink.events).toHaveLength(0)
  })

  it('refuses malformed CloudEvents and events it does not take with 400, and keeps serving', async () => {
    const garbage = await fetch(fn.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"not":"an event"',
    })
    expect(garbage.status).toBe(400)
    const wrongData = await fetch(fn.url, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': '1',
        'ce-source': '/x',
        'ce-type': 'io.youtube-rag.transcript.ready.v1',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ videoId }),
    })
    expect(wrongData.status).toBe(400)
    expect(((await wrongData.json()) as { error: { message: string } }).error.message).toMatch(/jobId/)
    const wrongType = await fn.deliver('video.indexed', videoId, { jobId, videoId, chunkCount: 1 })
    expect(wrongType.status).toBe(400)
    expect((await fetch(new URL('/health/live', fn.url))).status).toBe(200)
    expect((await fetch(new URL('/health/ready', fn.url))).status).toBe(200)
    const metrics = await (await fetch(new URL('/metrics', fn.url))).text()
    expect(metrics).toMatch(/ytrag_events_total\{.*outcome="invalid"/)
  })
})
