import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import type { ApiEnv } from '../http/index.ts'
import { retrieve, withProvenance } from '../retrieval/index.ts'
import { jsonAnswer, jsonBody } from '../schemas/common.ts'
import { bodyErrors } from '../schemas/error.ts'
import { searchRequest, searchResponse } from '../schemas/search.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/search',
  operationId: 'search',
  summary: 'Hybrid search over transcript chunks',
  request: { body: jsonBody(searchRequest) },
  responses: {
    200: jsonAnswer(searchResponse, 'hits, best first, each with its deep link, chapter and transcript source'),
    ...bodyErrors,
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { query, limit, filter } = c.req.valid('json')
  const { context } = c.var
  return c.json({ hits: await withProvenance(context, await retrieve(context, query, limit ?? 10, filter)) }, 200)
}
