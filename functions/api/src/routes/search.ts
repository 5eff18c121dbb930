import type { FunctionContext } from '@ytrag/function'
import { generativeAnswer, streamGenerativeAnswer, type Providers } from '@ytrag/providers'
import { extractiveAnswer, searchChunks, type Answer, type SearchHit } from '@ytrag/search'
import type { SearchFilter } from '@ytrag/stores'
import type { Context, Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { readBody } from '../http/index.ts'
import { askRequest, searchRequest } from './schemas.ts'

/**
 * Hybrid retrieval when an embedding provider is configured (BM25 fused with the query's
 * vector), BM25 alone otherwise. An embedding API that is down degrades search to BM25
 * instead of failing it: the words still match.
 */
async function retrieve(
  { stores, providers, logger }: Pick<FunctionContext, 'stores' | 'providers' | 'logger'>,
  query: string,
  limit: number,
  filter: SearchFilter | undefined,
): Promise<SearchHit[]> {
  let embedding: number[] | undefined
  if (providers.embeddings) {
    try {
      ;[embedding] = await providers.embeddings.embed([query])
    } catch (error) {
      logger.warn({ err: error }, 'query embedding failed; searching with BM25 alone')
    }
  }
  return searchChunks(stores.chunks, { query, limit, ...(filter ? { filter } : {}), ...(embedding ? { embedding } : {}) })
}

/** Each hit with where its words came from: captions, auto-captions or speech-to-text (and the model). */
async function withProvenance({ stores }: Pick<FunctionContext, 'stores'>, hits: SearchHit[]) {
  const videos = new Map(
    await Promise.all([...new Set(hits.map((hit) => hit.videoId))].map(async (videoId) => [videoId, await stores.documents.getVideo(videoId)] as const)),
  )
  return hits.map((hit) => {
    const transcript = videos.get(hit.videoId)?.transcript
    return transcript ? { ...hit, transcript: { source: transcript.source, language: transcript.language, ...(transcript.model ? { model: transcript.model } : {}) } } : hit
  })
}

type Chat = NonNullable<Providers['chat']>

/** The last event: the whole answer, its mode first so a reader can branch early. */
const doneData = ({ mode, answer, citations }: Answer) => JSON.stringify({ mode, answer, citations })

/** Streams an answer as server-sent events: `citations`, then `answer` pieces, then `done`. */
function streamAnswer(c: Context, question: string, hits: SearchHit[], passages: number, chat: Chat | undefined) {
  return streamSSE(c, async (stream) => {
    if (!chat) {
      const answer = extractiveAnswer(question, hits, { maxPassages: passages })
      await stream.writeSSE({ event: 'citations', data: JSON.stringify(answer.citations) })
      for (const line of answer.answer.split('\n')) await stream.writeSSE({ event: 'answer', data: JSON.stringify(`${line}\n`) })
      await stream.writeSSE({ event: 'done', data: doneData(answer) })
      return
    }
    try {
      for await (const event of streamGenerativeAnswer(question, hits, chat, { maxPassages: passages })) {
        if (event.type === 'citations') await stream.writeSSE({ event: 'citations', data: JSON.stringify(event.citations) })
        else if (event.type === 'delta') await stream.writeSSE({ event: 'answer', data: JSON.stringify(event.text) })
        else await stream.writeSSE({ event: 'done', data: doneData(event.answer) })
      }
    } catch (error) {
      // Headers are sent: the failure can only be told in the stream.
      await stream.writeSSE({ event: 'error', data: JSON.stringify({ code: 'chat_failed', message: (error as Error).message }) })
    }
  })
}

/** `POST /v1/search` and `POST /v1/ask` (JSON, or server-sent events when asked for). */
export function searchRoutes(app: Hono, context: FunctionContext) {
  const { providers, logger } = context

  app.post('/v1/search', async (c) => {
    const { query, limit, filter } = await readBody(c, searchRequest)
    return c.json({ hits: await withProvenance(context, await retrieve(context, query, limit ?? 10, filter)) })
  })

  app.post('/v1/ask', async (c) => {
    const { question, limit, filter } = await readBody(c, askRequest)
    const passages = limit ?? (providers.chat ? 5 : 3)
    const hits = await retrieve(context, question, Math.max(passages, 5), filter)
    if ((c.req.header('accept') ?? '').includes('text/event-stream')) return streamAnswer(c, question, hits, passages, providers.chat)
    if (!providers.chat) return c.json(extractiveAnswer(question, hits, { maxPassages: passages }))
    try {
      const answer: Answer = await generativeAnswer(question, hits, providers.chat, { maxPassages: passages })
      return c.json(answer)
    } catch (error) {
      // The passages are still worth having: answer from them, and say why it is not generative.
      logger.warn({ err: error }, 'chat model failed; answering extractively')
      return c.json({ ...extractiveAnswer(question, hits, { maxPassages: passages }), warning: `the chat model failed (${(error as Error).message}); these are the best passages` })
    }
  })
}
