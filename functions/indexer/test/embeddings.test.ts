// The indexer with an embedding provider: every chunk gets a vector (dense search finds it),
// a rate limit is retried by the broker, a refusal fails the video with the reason.
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { hashedEmbedding, startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import type { StoredTranscript } from '@ytrag/domain'
import { blobKeys, transcriptBlob } from '@ytrag/stores'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { indexer } from '../src/index.ts'

const DIMENSIONS = 32
const videoId = 'vid-embed-1'
const jobId = 'job-embed-1'
const transcript: StoredTranscript = {
  videoId,
  source: 'captions',
  language: 'en',
  segments: Array.from({ length: 30 }, (_, i) => ({
    start: i * 5,
    end: i * 5 + 5,
    text:
      i === 20 ? 'The lighthouse keeper polishes the great lens at dusk.' : `Filler sentence ${i} with nothing in it.`,
  })),
}
const data = { jobId, videoId, blobKey: blobKeys.transcript(videoId), source: 'captions' as const, language: 'en' }

describe('indexer with embeddings', () => {
  let openai: OpenAiTestServer
  let fn: FunctionUnderTest
  beforeAll(async () => {
    openai = await startOpenAiTestServer()
  })
  afterAll(() => openai.close())
  beforeEach(async () => {
    openai.reset()
    fn = await startFunctionUnderTest(indexer, {
      YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
      YOUTUBE_RAG__OPENAI__EMBEDDING_DIMENSIONS: String(DIMENSIONS),
    })
    await fn.stores.documents.createJob({ jobId, url: 'https://www.youtube.com/watch?v=x' })
    await fn.stores.documents.insertVideo({
      videoId,
      url: `https://www.youtube.com/watch?v=${videoId}`,
      title: 'Coastal stories',
    })
    await fn.stores.documents.addJobVideos(jobId, [videoId])
    await transcriptBlob.write(fn.stores.blobs, transcript)
  })
  afterEach(() => fn.close())

  it('embeds every chunk with its title in one batched request, so a dense query finds the moment', async () => {
    expect((await fn.deliver('transcript.ready', videoId, data)).status).toBe(202)
    const video = await fn.stores.documents.getVideo(videoId)
    expect(video?.status).toBe('indexed')
    const requests = openai.requests.filter((request) => request.path === '/v1/embeddings')
    expect(requests).toHaveLength(1)
    const inputs = (requests[0]!.body as { input: string[] }).input
    expect(inputs).toHaveLength(video!.chunkCount)
    expect(inputs.every((input) => input.startsWith('Coastal stories\n'))).toBe(true)
    // A query with no word in common with BM25's best match: only the vector can rank it.
    const embedding = hashedEmbedding('Coastal stories\nlighthouse lens', DIMENSIONS)
    const [hit] = await fn.stores.chunks.search({ text: 'zzzz', embedding, limit: 1 })
    expect(hit?.text).toContain('lighthouse keeper')
  })

  it("puts a chunk's chapter beside the title in what is embedded", async () => {
    await fn.stores.documents.updateVideo(videoId, 'download', 'done', {
      chapters: [{ title: 'The lighthouse', start: 90, end: 150 }],
    })
    expect((await fn.deliver('transcript.ready', videoId, data)).status).toBe(202)
    const inputs = (openai.requests.find((request) => request.path === '/v1/embeddings')!.body as { input: string[] })
      .input
    const hits = await fn.stores.chunks.search({ text: 'filler sentence lighthouse', limit: 50 })
    const chaptered = hits.filter((hit) => hit.chapter).length
    expect(chaptered).toBeGreaterThan(0)
    expect(inputs.filter((input) => input.startsWith('Coastal stories — The lighthouse\n'))).toHaveLength(chaptered)
    expect(inputs.filter((input) => input.startsWith('Coastal stories\n'))).toHaveLength(inputs.length - chaptered)
  })

  it('answers 5xx on a rate limit that outlasts the client retries, so the broker redelivers, and indexes on the redelivery', async () => {
    openai.failNext('/v1/embeddings', { status: 429, headers: { 'retry-after': '0' }, times: 6 })
    const first = await fn.deliver('transcript.ready', videoId, data)
    expect(first.status).toBe(500)
    expect((await fn.stores.documents.getVideo(videoId))?.status).not.toBe('failed')
    expect((await fn.deliver('transcript.ready', videoId, data)).status).toBe(202)
    expect((await fn.stores.documents.getVideo(videoId))?.status).toBe('indexed')
  }, 30_000)

  it('fails the video with the reason when the provider refuses, and emits video.failed once', async () => {
    openai.failNext('/v1/embeddings', {
      status: 401,
      body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } },
    })
    expect((await fn.deliver('transcript.ready', videoId, data)).status).toBe(202)
    const video = await fn.stores.documents.getVideo(videoId)
    expect(video?.status).toBe('failed')
    expect(video?.error).toMatch(/^embedding failed: .*Incorrect API key provided/)
    expect(await fn.stores.chunks.countVideo(videoId)).toBe(0)
    expect(fn.sink.events.map((event) => [event.name, (event.data as { stage: string }).stage])).toEqual([
      ['video.failed', 'index'],
    ])
    expect((await fn.stores.documents.getJob(jobId))?.videos).toEqual({ total: 1, indexed: 0, failed: 1, skipped: 0 })
  })
})
