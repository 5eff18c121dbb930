// /v1/search and /v1/ask with an OpenAI-compatible API configured: the query is embedded for
// hybrid search, answers are written by the chat model and cite only passages it was shown.
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { hashedEmbedding, startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import { chunkId, type ChunkRecord } from '@ytrag/stores'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { api } from '../src/index.ts'

const DIMENSIONS = 16
const url = 'https://www.youtube.com/watch?v=vidA'
const texts = [
  'Welcome. Today we talk about tables and how they are stored on disk.',
  'A covering index holds every column the query reads. So the table is never touched.',
  'Bloom filters answer maybe or no, never a wrong no.',
]
const records: ChunkRecord[] = texts.map((text, index) => ({
  id: chunkId('vidA', index),
  videoId: 'vidA',
  chunkIndex: index,
  title: 'Indexes in depth',
  url,
  start: index * 60,
  end: index * 60 + 18,
  text,
  embedding: hashedEmbedding(`Indexes in depth\n${text}`, DIMENSIONS),
}))

interface AskAnswer {
  answer: string
  mode: string
  warning?: string
  citations: { n: number; videoId: string; start: number; url: string; text: string }[]
}

const post = (fn: FunctionUnderTest, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(new URL(path, fn.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

/** The events of a server-sent event stream, as `[event, parsed data]`. */
const sseEvents = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message'
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null'
      return [event, JSON.parse(data)] as [string, unknown]
    })

describe('api with an OpenAI-compatible provider', () => {
  let openai: OpenAiTestServer
  let fn: FunctionUnderTest
  let reply = ''
  beforeAll(async () => {
    openai = await startOpenAiTestServer({ chatScript: () => reply })
    fn = await startFunctionUnderTest(api, {
      YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
      YOUTUBE_RAG__OPENAI__EMBEDDING_DIMENSIONS: String(DIMENSIONS),
    })
    await fn.stores.chunks.replaceVideoChunks('vidA', records)
  })
  afterAll(async () => {
    await fn?.close()
    await openai?.close()
  })
  beforeEach(() => openai.reset())

  it('embeds the query and searches with it', async () => {
    const answer = await post(fn, '/v1/search', { query: 'covering index columns', limit: 2 })
    expect(answer.status).toBe(200)
    const { hits } = (await answer.json()) as { hits: { videoId: string; start: number }[] }
    expect(hits[0]).toMatchObject({ videoId: 'vidA', start: 60 })
    const embeddings = openai.requests.filter((request) => request.path === '/v1/embeddings')
    expect(embeddings.map((request) => request.body)).toEqual([
      expect.objectContaining({ input: ['covering index columns'], dimensions: DIMENSIONS }),
    ])
  })

  it('answers generatively, keeping the citations that point at a passage and dropping the one that does not', async () => {
    reply = 'A covering index holds every column the query reads [1]. It also makes coffee [7].'
    const answer = await post(fn, '/v1/ask', { question: 'what does a covering index hold?' })
    expect(answer.status).toBe(200)
    const body = (await answer.json()) as AskAnswer
    expect(body.mode).toBe('generative')
    expect(body.answer).toContain('every column the query reads [1]')
    expect(body.answer).not.toContain('[7]')
    expect(body.citations).toEqual([expect.objectContaining({ n: 1, videoId: 'vidA', start: 60, url: `${url}&t=60s` })])
    // The model was shown the passages, numbered, with the question.
    const chat = openai.requests.find((request) => request.path === '/v1/chat/completions')
    const prompt = JSON.stringify(chat?.body)
    expect(prompt).toContain('[1] (Indexes in depth @ 01:00) A covering index holds every column')
    expect(prompt).toContain('what does a covering index hold?')
  })

  it('streams a generative answer as server-sent events: citations, answer pieces, done', async () => {
    reply = 'Every column the query reads [1][9].'
    const answer = await post(
      fn,
      '/v1/ask',
      { question: 'what does a covering index hold?' },
      { accept: 'text/event-stream' },
    )
    expect(answer.headers.get('content-type')).toContain('text/event-stream')
    const events = sseEvents(await answer.text())
    expect(events[0]?.[0]).toBe('citations')
    const streamed = events
      .filter(([event]) => event === 'answer')
      .map(([, data]) => data as string)
      .join('')
    expect(streamed).toBe('Every column the query reads [1].')
    const [name, done] = events.at(-1)!
    expect(name).toBe('done')
    expect(done).toMatchObject({
      mode: 'generative',
      answer: streamed,
      citations: [expect.objectContaining({ n: 1, start: 60 })],
    })
  })

  it('falls back to the best passages, saying why, when the chat model refuses', async () => {
    openai.failNext('/v1/chat/completions', {
      status: 400,
      body: { error: { message: 'model not found', type: 'invalid_request_error' } },
    })
    const answer = await post(fn, '/v1/ask', { question: 'what does a covering index hold?' })
    expect(answer.status).toBe(200)
    const body = (await answer.json()) as AskAnswer
    expect(body.mode).toBe('extractive')
    expect(body.warning).toMatch(/chat model failed .*model not found/)
    expect(body.citations[0]).toMatchObject({ n: 1, videoId: 'vidA', start: 60 })
  })

  it('still searches, with BM25 alone, when the embedding API is down', async () => {
    openai.failNext('/v1/embeddings', {
      status: 401,
      body: { error: { message: 'bad key', type: 'invalid_request_error' } },
    })
    const answer = await post(fn, '/v1/search', { query: 'bloom filters' })
    expect(answer.status).toBe(200)
    const { hits } = (await answer.json()) as { hits: { start: number }[] }
    expect(hits[0]?.start).toBe(120)
  })
})
