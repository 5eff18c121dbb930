// Selection by config, against the real servers that run here: FerretDB (MongoDB protocol),
// s3rver (S3), the running Redis; Qdrant through the fake that answers like it.
import { randomUUID } from 'node:crypto'
import { startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import { hashApiKey } from '@ytrag/rate-limit'
import { DirectoryBlobStore, SqliteChunkIndex, SqliteDocumentStore } from '@ytrag/stores/embedded'
import { MongoDocumentStore } from '@ytrag/stores/mongodb'
import { QdrantChunkIndex } from '@ytrag/stores/qdrant'
import { S3BlobStore } from '@ytrag/stores/s3'
import { startFakeQdrant, startS3rver, type RunningFakeQdrant, type RunningS3rver } from '@ytrag/stores/testing'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type {} from '../../../../vitest.global-setup/ferretdb.ts'
import { startFunctionUnderTest, type FunctionUnderTest } from '../testing/index.ts'
import type { FunctionDefinition } from '../factory/index.ts'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A public-API function with one route, so limiting and readiness are seen on their own. */
const echo: FunctionDefinition = {
  name: 'echo',
  publicApi: true,
  routes(app: Hono) {
    app.get('/v1/echo', (c) => c.json({ ok: true }))
  },
}

const ready = async (fn: FunctionUnderTest) => {
  const response = await fetch(new URL('/health/ready', fn.url))
  return {
    status: response.status,
    body: (await response.json()) as { message?: string; failing?: Record<string, string> },
  }
}

describe('stores, providers and rate limiter selected by config', () => {
  let s3: RunningS3rver
  let qdrant: RunningFakeQdrant
  let openai: OpenAiTestServer
  beforeAll(async () => {
    ;[s3, qdrant, openai] = await Promise.all([startS3rver(), startFakeQdrant(), startOpenAiTestServer()])
  })
  afterAll(async () => {
    await Promise.all([s3?.close(), qdrant?.close(), openai?.close()])
  })

  const production = (extra: Record<string, string> = {}) => ({
    YOUTUBE_RAG__DOCUMENT_DB__PROVIDER: 'mongodb',
    YOUTUBE_RAG__DOCUMENT_DB__URI: inject('mongodbUrl'),
    YOUTUBE_RAG__DOCUMENT_DB__NAME: `ytrag_deps_${randomUUID().slice(0, 8)}`,
    YOUTUBE_RAG__VECTOR_DB__PROVIDER: 'qdrant',
    YOUTUBE_RAG__VECTOR_DB__URL: qdrant.url,
    YOUTUBE_RAG__VECTOR_DB__COLLECTION: `chunks_${randomUUID().slice(0, 8)}`,
    YOUTUBE_RAG__BLOB_STORAGE__PROVIDER: 's3',
    YOUTUBE_RAG__BLOB_STORAGE__ENDPOINT: s3.endpoint,
    YOUTUBE_RAG__BLOB_STORAGE__BUCKET: `deps-${randomUUID().slice(0, 8)}`,
    YOUTUBE_RAG__BLOB_STORAGE__ACCESS_KEY_ID: s3.credentials.accessKeyId,
    YOUTUBE_RAG__BLOB_STORAGE__SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    YOUTUBE_RAG__RATE_LIMIT__PROVIDER: 'redis',
    YOUTUBE_RAG__RATE_LIMIT__REDIS_URL: REDIS_URL,
    ...extra,
  })

  it('opens the embedded stores, no providers and an in-memory limiter by default', async () => {
    const fn = await startFunctionUnderTest(echo)
    try {
      expect(fn.stores.documents).toBeInstanceOf(SqliteDocumentStore)
      expect(fn.stores.chunks).toBeInstanceOf(SqliteChunkIndex)
      expect(fn.stores.blobs).toBeInstanceOf(DirectoryBlobStore)
      expect(fn.providers).toEqual({})
      expect((await ready(fn)).status).toBe(200)
      const answer = await fetch(new URL('/v1/echo', fn.url))
      expect(answer.headers.get('ratelimit-limit')).toBe('120')
    } finally {
      await fn.close()
    }
  })

  it('opens MongoDB, Qdrant and S3 when configured, and is ready once each answers', async () => {
    const fn = await startFunctionUnderTest(echo, production())
    try {
      expect(fn.stores.documents).toBeInstanceOf(MongoDocumentStore)
      expect(fn.stores.chunks).toBeInstanceOf(QdrantChunkIndex)
      expect(fn.stores.blobs).toBeInstanceOf(S3BlobStore)
      expect(await ready(fn)).toEqual({ status: 200, body: { status: 'ready', function: 'echo' } })
      // The adapters really are wired: a round trip through each.
      await fn.stores.blobs.put('videos/v1/x.txt', 'hello')
      expect(new TextDecoder().decode(await fn.stores.blobs.get('videos/v1/x.txt'))).toBe('hello')
      const jobId = randomUUID()
      await fn.stores.documents.createJob({ jobId, url: 'https://www.youtube.com/watch?v=x' })
      expect((await fn.stores.documents.getJob(jobId))?.status).toBe('queued')
      expect(await fn.stores.chunks.countVideo('v1')).toBe(0)
      expect(
        qdrant.requests.some((request) => request.method === 'PUT' && request.path.startsWith('/collections/chunks_')),
      ).toBe(true)
    } finally {
      await fn.close()
    }
  })

  it('fails readiness with the name of the store that is down, and recovers when it is back', async () => {
    const down = await startS3rver()
    const fn = await startFunctionUnderTest(echo, production({ YOUTUBE_RAG__BLOB_STORAGE__ENDPOINT: down.endpoint }))
    try {
      expect((await ready(fn)).status).toBe(200)
      await down.close()
      const answer = await ready(fn)
      expect(answer.status).toBe(503)
      expect(answer.body.message).toMatch(/^not ready: blobs store \(s3\) is down$/)
      expect(Object.keys(answer.body.failing ?? {})).toEqual(['blobs'])
      expect(answer.body.failing?.blobs).toMatch(/^s3: /)
    } finally {
      await fn.close()
    }
  })

  it('names MongoDB when the document store cannot be reached', async () => {
    const fn = await startFunctionUnderTest(
      echo,
      production({ YOUTUBE_RAG__DOCUMENT_DB__URI: 'mongodb://127.0.0.1:1/' }),
    )
    try {
      const answer = await ready(fn)
      expect(answer.status).toBe(503)
      expect(answer.body.message).toBe('not ready: documents store (mongodb) is down')
      expect(answer.body.failing?.documents).toMatch(/MongoDB .*did not answer ping/)
    } finally {
      await fn.close()
    }
  }, 20_000)

  it('limits /v1 per API key through Redis with 429 and Retry-After, and never limits health checks', async () => {
    // Fresh keys each run: the Redis counters outlive the test within their window.
    const [mine, other] = [`test-${randomUUID()}`, `other-${randomUUID()}`]
    const fn = await startFunctionUnderTest(
      echo,
      production({
        YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '2',
        YOUTUBE_RAG__API__KEYS: [mine, other].map(hashApiKey).join(','),
      }),
    )
    try {
      const key = { 'x-api-key': mine }
      const statuses = []
      for (let i = 0; i < 3; i++) statuses.push((await fetch(new URL('/v1/echo', fn.url), { headers: key })).status)
      expect(statuses).toEqual([200, 200, 429])
      const limited = await fetch(new URL('/v1/echo', fn.url), { headers: key })
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited')
      // Another key has its own count; readiness (which pings Redis) is not counted.
      expect((await fetch(new URL('/v1/echo', fn.url), { headers: { authorization: `Bearer ${other}` } })).status).toBe(
        200,
      )
      for (let i = 0; i < 3; i++) expect((await ready(fn)).status).toBe(200)
    } finally {
      await fn.close()
    }
  })

  it('refuses to start with a Redis limiter that cannot be reached, naming Redis', async () => {
    await expect(
      startFunctionUnderTest(echo, production({ YOUTUBE_RAG__RATE_LIMIT__REDIS_URL: 'redis://127.0.0.1:1' })),
    ).rejects.toThrow(/Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/)
  })

  it('makes the Qdrant collection with the embedding size: known for OpenAI models, asked of the model on first use otherwise', async () => {
    const probes = () =>
      openai.requests
        .filter((request) => request.path === '/v1/embeddings')
        .map((request) => (request.body as { model: string }).model)
    const before = probes().length
    const known = await startFunctionUnderTest(
      echo,
      production({
        YOUTUBE_RAG__OPENAI__BASE_URL: `${openai.baseUrl}`,
        YOUTUBE_RAG__OPENAI__EMBEDDING_DIMENSIONS: '24',
      }),
    )
    const unknown = await startFunctionUnderTest(
      echo,
      production({
        YOUTUBE_RAG__OPENAI__BASE_URL: `${openai.baseUrl}`,
        YOUTUBE_RAG__OPENAI__EMBEDDING_MODEL: 'nomic-embed-text',
      }),
    )
    try {
      expect(known.providers.embeddings?.dimensions).toBe(24)
      expect(unknown.providers.embeddings?.dimensions).toBeUndefined()
      // Starting asks the model nothing, and neither does readiness.
      expect((await ready(unknown)).status).toBe(200)
      expect(probes().slice(before)).toEqual([])
      await known.stores.chunks.countVideo('v')
      // The first use makes the collection: one probe, whatever many uses race to it.
      await Promise.all([unknown.stores.chunks.countVideo('v'), unknown.stores.chunks.countVideo('w')])
      await unknown.stores.chunks.countVideo('v')
      expect(probes().slice(before)).toEqual(['nomic-embed-text'])
      const sizes = qdrant.requests
        .filter((request) => request.method === 'PUT' && /^\/collections\/[^/]+$/.test(request.path))
        .slice(-2)
        .map((request) => (request.body as { vectors?: { dense?: { size: number } } }).vectors?.dense?.size)
      expect(sizes.sort((a, b) => a! - b!)).toEqual([8, 24]) // 8: the test server's own size when none is asked for
    } finally {
      await Promise.all([known.close(), unknown.close()])
    }
  })
})
