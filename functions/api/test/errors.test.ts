// Errors that used to be stack traces or the wrong message, and the api's two surfaces.
import { loadConfig } from '@ytrag/config'
import { createFunctionApps, openDependencies } from '@ytrag/function'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { createLogger } from '@ytrag/logging'
import { createEvent, requestForEvent } from '@ytrag/events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api } from '../src/index.ts'

const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string } }).error
const post = (fn: FunctionUnderTest, path: string, body: unknown) =>
  fetch(new URL(path, fn.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('api errors', () => {
  let fn: FunctionUnderTest
  beforeAll(async () => {
    fn = await startFunctionUnderTest(api)
  })
  afterAll(() => fn.close())

  it.each([
    'garbage',
    Buffer.from('["only-one"]').toString('base64url'),
    Buffer.from('{"a":1}').toString('base64url'),
    '%FF',
  ])('answers 400 invalid_cursor for the cursor %s', async (cursor) => {
    const answer = await fetch(new URL(`/v1/videos?cursor=${cursor}`, fn.url))
    expect(answer.status).toBe(400)
    const error = await errorOf(answer)
    expect(error.code).toBe('invalid_cursor')
    expect(error.message).toMatch(/nextCursor/)
  })

  it('says how long a query may be, and tells a missing query from one of the wrong type', async () => {
    expect(await errorOf(await post(fn, '/v1/search', { query: 'x'.repeat(2001) }))).toEqual({
      code: 'invalid_request',
      message: 'query: query must be at most 2000 characters',
    })
    expect(await errorOf(await post(fn, '/v1/ask', { question: 'x'.repeat(2001) }))).toEqual({
      code: 'invalid_request',
      message: 'question: question must be at most 2000 characters',
    })
    expect((await errorOf(await post(fn, '/v1/search', {}))).message).toBe('query: query is required')
    expect((await errorOf(await post(fn, '/v1/search', { query: 7 }))).message).toBe('query: query must be a string')
  })

  it('answers 413 body_too_large past API__MAX_BODY_BYTES, naming the setting', async () => {
    const answer = await post(fn, '/v1/search', { query: 'x', filter: { videoIds: ['v'.repeat(300_000)] } })
    expect(answer.status).toBe(413)
    const error = await errorOf(answer)
    expect(error.code).toBe('body_too_large')
    expect(error.message).toContain('API__MAX_BODY_BYTES')
  })
})

describe("the api's two surfaces", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-api-surfaces-'))
  const env = { YOUTUBE_RAG__STORAGE__DIR: dir, YOUTUBE_RAG__LOG__LEVEL: 'silent' }
  const config = loadConfig(env)
  const logger = createLogger({ name: 'api', level: 'silent' })
  const sink = { send: async () => {} }
  const event = createEvent('video.indexed', {
    function: 'indexer',
    subject: 'v1',
    data: { jobId: 'j1', videoId: 'v1', chunkCount: 1 },
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('serves events and metrics on the internal app only; the public one answers 404 for both', async () => {
    const opened = await openDependencies(config, { env, logger, rateLimited: true })
    try {
      const { app, internal } = createFunctionApps(api, { config, sink, logger, ...opened })
      expect((await internal.fetch(requestForEvent('http://127.0.0.1/', event))).status).toBe(202)
      expect((await internal.request('/metrics')).status).toBe(200)
      expect((await app.fetch(requestForEvent('http://127.0.0.1/', event))).status).toBe(404)
      expect((await app.request('/metrics')).status).toBe(404)
    } finally {
      await opened.close()
    }
  })

  it("in the cluster takes events on the public port only for a cluster-local Host, which Knative's external gateway never routes", async () => {
    const opened = await openDependencies(config, { env, logger, rateLimited: true })
    try {
      const { app } = createFunctionApps(api, { config, sink, logger, ...opened, eventsOnClusterHost: true })
      expect((await app.fetch(requestForEvent('http://api.youtube-rag.svc.cluster.local/', event))).status).toBe(202)
      expect((await app.fetch(requestForEvent('http://api.youtube-rag.example.com/', event))).status).toBe(404)
      expect(
        (await app.fetch(requestForEvent('http://api.youtube-rag.svc.cluster.local.evil.example/', event))).status,
      ).toBe(404)
      expect((await app.request('/metrics')).status).toBe(404)
    } finally {
      await opened.close()
    }
  })
})

describe('the OpenAPI description', () => {
  it('names the key schemes, every error code, and the 401, 413, 415 and 429 answers', async () => {
    const fn = await startFunctionUnderTest(api)
    try {
      const doc = (await (await fetch(new URL('/openapi.json', fn.url))).json()) as {
        components: {
          securitySchemes: Record<string, unknown>
          schemas: { Error: { properties: { error: { properties: { code: { enum: string[] } } } } } }
        }
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>
      }
      expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearer', 'apiKey'])
      expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual(
        expect.arrayContaining(['unauthorized', 'body_too_large', 'invalid_cursor', 'unknown_host']),
      )
      expect(Object.keys(doc.paths['/v1/search']!.post!.responses)).toEqual(
        expect.arrayContaining(['200', '400', '401', '413', '415', '429']),
      )
      expect(Object.keys(doc.paths['/v1/videos']!.get!.responses)).toEqual(
        expect.arrayContaining(['200', '400', '401', '429']),
      )
    } finally {
      await fn.close()
    }
  })
})
