import type { FunctionContext } from '@ytrag/function'
import { extractiveAnswer, searchChunks } from '@ytrag/search'
import type { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { readBody } from '../http/index.ts'
import { askRequest, searchRequest } from './schemas.ts'

/** `POST /v1/search` and `POST /v1/ask` (JSON, or server-sent events when asked for). */
export function searchRoutes(app: Hono, { stores }: FunctionContext) {
  app.post('/v1/search', async (c) => {
    const { query, limit, filter } = await readBody(c, searchRequest)
    const hits = await searchChunks(stores.chunks, { query, limit: limit ?? 10, ...(filter ? { filter } : {}) })
    return c.json({ hits })
  })

  app.post('/v1/ask', async (c) => {
    const { question, limit, filter } = await readBody(c, askRequest)
    const hits = await searchChunks(stores.chunks, { query: question, limit: limit ?? 5, ...(filter ? { filter } : {}) })
    const answer = extractiveAnswer(question, hits, { maxPassages: limit ?? 3 })
    if (!(c.req.header('accept') ?? '').includes('text/event-stream')) return c.json(answer)
    return streamSSE(c, async (stream) => {
      await stream.writeSSE({ event: 'citations', data: JSON.stringify(answer.citations) })
      for (const line of answer.answer.split('\n')) {
        await stream.writeSSE({ event: 'answer', data: JSON.stringify(`${line}\n`) })
      }
      await stream.writeSSE({ event: 'done', data: JSON.stringify({ mode: answer.mode }) })
    })
  })
}
