import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import { generativeAnswer, streamGenerativeAnswer, type Providers } from '@ytrag/providers'
import type { Answer, SearchHit } from '@ytrag/domain'
import { extractiveAnswer } from '@ytrag/search'
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import type { ApiEnv } from '../http/index.ts'
import { retrieve } from '../retrieval/index.ts'
import { askEventStream, askRequest, askResponse } from '../schemas/ask.ts'
import { jsonBody } from '../schemas/common.ts'
import { bodyErrors } from '../schemas/error.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/ask',
  operationId: 'ask',
  summary: 'An answer with citations (Accept: text/event-stream streams it)',
  description:
    'With `Accept: text/event-stream` the answer is streamed as server-sent events: `citations` (the citations, JSON), `answer` (each a JSON string, a piece of the answer), then `done` (the whole answer, JSON); or `error` (`{code,message}`, code `chat_failed`) when the chat model fails after the stream began.',
  request: { body: jsonBody(askRequest) },
  responses: {
    200: {
      description: 'the answer, its citations with deep links and chapters',
      content: { 'application/json': { schema: askResponse }, 'text/event-stream': { schema: askEventStream } },
    },
    ...bodyErrors,
  },
})

type Chat = NonNullable<Providers['chat']>

/** The last event: the whole answer, its mode first so a reader can branch early. */
const doneData = ({ mode, answer, citations }: Answer) => JSON.stringify({ mode, answer, citations })

/** Streams an answer as server-sent events: `citations`, then `answer` pieces, then `done`. */
function streamAnswer(c: Context, question: string, hits: SearchHit[], passages: number, chat: Chat | undefined) {
  return streamSSE(c, async (stream) => {
    if (!chat) {
      const answer = extractiveAnswer(question, hits, { maxPassages: passages })
      await stream.writeSSE({ event: 'citations', data: JSON.stringify(answer.citations) })
      for (const line of answer.answer.split('\n'))
        await stream.writeSSE({ event: 'answer', data: JSON.stringify(`${line}\n`) })
      await stream.writeSSE({ event: 'done', data: doneData(answer) })
      return
    }
    try {
      for await (const event of streamGenerativeAnswer(question, hits, chat, { maxPassages: passages })) {
        if (event.type === 'citations')
          await stream.writeSSE({ event: 'citations', data: JSON.stringify(event.citations) })
        else if (event.type === 'delta') await stream.writeSSE({ event: 'answer', data: JSON.stringify(event.text) })
        else await stream.writeSSE({ event: 'done', data: doneData(event.answer) })
      }
    } catch (error) {
      // Headers are sent: the failure can only be told in the stream.
      await stream.writeSSE({
        event: 'error',
        data: JSON.stringify({ code: 'chat_failed', message: (error as Error).message }),
      })
    }
  })
}

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { context } = c.var
  const { providers, logger } = context
  const { question, limit, filter } = c.req.valid('json')
  const passages = limit ?? (providers.chat ? 5 : 3)
  const hits = await retrieve(context, question, Math.max(passages, 5), filter)
  if ((c.req.header('accept') ?? '').includes('text/event-stream'))
    return streamAnswer(c, question, hits, passages, providers.chat)
  if (!providers.chat) return c.json(extractiveAnswer(question, hits, { maxPassages: passages }), 200)
  try {
    const answer: Answer = await generativeAnswer(question, hits, providers.chat, { maxPassages: passages })
    return c.json(answer, 200)
  } catch (error) {
    // The passages are still worth having: answer from them, and say why it is not generative.
    logger.warn({ err: error }, 'chat model failed; answering extractively')
    return c.json(
      {
        ...extractiveAnswer(question, hits, { maxPassages: passages }),
        warning: `the chat model failed (${(error as Error).message}); these are the best passages`,
      },
      200,
    )
  }
}
