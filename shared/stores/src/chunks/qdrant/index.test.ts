import net from 'node:net'
import { QdrantClient } from '@qdrant/js-client-rest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chunkId } from '../chunk-id/index.ts'
import { chunkIndexConformance } from '../conformance.ts'
import type { ChunkRecord } from '../../ports.ts'
import { addSparse, sparseDocumentVector, sparseQueryVector } from '../sparse/index.ts'
import { EmbeddingDimensionError } from '../sqlite/index.ts'
import { type FakeQdrantRequest, type RunningFakeQdrant, startFakeQdrant } from '../../testing/fake-qdrant.ts'
import { QdrantChunkIndex, QdrantChunkIndexError, type QdrantChunkIndexOptions } from './index.ts'

const chunk = (videoId: string, chunkIndex: number, text: string, extra: Partial<ChunkRecord> = {}): ChunkRecord => ({
  id: chunkId(videoId, chunkIndex),
  videoId,
  chunkIndex,
  title: `Video ${videoId}`,
  url: `https://www.youtube.com/watch?v=${videoId}`,
  start: chunkIndex * 20,
  end: chunkIndex * 20 + 20,
  text,
  ...extra,
})

/** The sparse vector the adapter stores for a chunk: its text, plus its title at half weight. */
const storedSparse = (record: ChunkRecord) =>
  addSparse(sparseDocumentVector(record.text), sparseDocumentVector(record.title, { b: 0 }), 0.5)

// These tests check what the adapter sends, against a fake that answers like Qdrant's REST API.
// The fake is not Qdrant: the behaviour suite runs against a real one at the end of this file.
describe('QdrantChunkIndex (requests, against the fake Qdrant)', () => {
  let qdrant: RunningFakeQdrant
  beforeAll(async () => {
    qdrant = await startFakeQdrant()
  })
  afterAll(async () => {
    await qdrant?.close()
  })

  let collections = 0
  const open = (options: Partial<QdrantChunkIndexOptions> = {}) =>
    new QdrantChunkIndex({ url: qdrant.url, collection: `chunks-${++collections}`, dimensions: 4, ...options })

  /** The requests for one collection (from request number `since`), as `METHOD /path-after-the-collection`. */
  const sent = (collection: string, since = 0): (FakeQdrantRequest & { call: string })[] => {
    const base = `/collections/${collection}`
    return qdrant.requests
      .slice(since)
      .filter((request) => request.path === base || request.path.startsWith(`${base}/`))
      .map((request) => ({ ...request, call: `${request.method} ${request.path.slice(base.length) || '/'}` }))
  }

  describe('init', () => {
    it('creates the collection with named dense and sparse vectors and the payload indexes', async () => {
      const index = open({ dimensions: 4 })
      await index.init()
      const requests = sent(index.collection)
      expect(requests.map((request) => request.call)).toEqual([
        'GET /exists',
        'PUT /',
        'PUT /index',
        'PUT /index',
        'PUT /index',
      ])
      expect(requests[1]!.body).toEqual({
        vectors: { dense: { size: 4, distance: 'Cosine' } },
        sparse_vectors: { bm25: { modifier: 'idf' } },
      })
      expect(requests.slice(2).map((request) => [request.body, request.query])).toEqual([
        [{ field_name: 'videoId', field_schema: 'keyword' }, { wait: 'true' }],
        [{ field_name: 'channelId', field_schema: 'keyword' }, { wait: 'true' }],
        [{ field_name: 'publishedAt', field_schema: 'datetime' }, { wait: 'true' }],
      ])
    })

    it('creates a sparse-only collection without dimensions', async () => {
      const index = open({ dimensions: undefined })
      await index.init()
      const create = sent(index.collection).find((request) => request.call === 'PUT /')
      expect(create?.body).toEqual({ sparse_vectors: { bm25: { modifier: 'idf' } } })
    })

    it('creates once: a second init, or a second index on the collection, only reads it', async () => {
      const index = open()
      await Promise.all([index.init(), index.init()])
      await index.init()
      expect(sent(index.collection).filter((request) => request.method === 'PUT')).toHaveLength(4)

      const since = qdrant.requests.length
      await new QdrantChunkIndex({ url: qdrant.url, collection: index.collection, dimensions: 4 }).init()
      expect(sent(index.collection, since).map((request) => request.call)).toEqual(['GET /exists', 'GET /'])
    })

    it('is safe to race with another process creating the same collection', async () => {
      const collection = `chunks-${++collections}`
      const [a, b] = [1, 2].map(() => new QdrantChunkIndex({ url: qdrant.url, collection, dimensions: 4 }))
      await Promise.all([a!.init(), b!.init()])
      await a!.replaceVideoChunks('v1', [chunk('v1', 0, 'alpha')])
      expect(await b!.countVideo('v1')).toBe(1)
    })

    it('refuses an existing collection with another embedding size, and adopts its size without dimensions', async () => {
      const index = open({ dimensions: 4 })
      await index.init()
      await expect(
        new QdrantChunkIndex({ url: qdrant.url, collection: index.collection, dimensions: 8 }).init(),
      ).rejects.toThrow(EmbeddingDimensionError)
      const reader = new QdrantChunkIndex({ url: qdrant.url, collection: index.collection })
      await reader.replaceVideoChunks('v1', [chunk('v1', 0, 'alpha', { embedding: [1, 0, 0, 0] })])
      expect(
        (await reader.search({ text: 'nothing', embedding: [1, 0, 0, 0], limit: 5 })).map((hit) => hit.videoId),
      ).toEqual(['v1'])
    })

    it('learns a size given as a function only to make the collection: once, on first use, and never for an existing one', async () => {
      let asked = 0
      const learn = async () => {
        asked += 1
        return 4
      }
      const index = open({ dimensions: learn })
      expect(asked).toBe(0)
      await Promise.all([index.countVideo('v1'), index.search({ text: 'alpha', limit: 5 })])
      expect(asked).toBe(1)
      expect(sent(index.collection).find((request) => request.call === 'PUT /')?.body).toMatchObject({
        vectors: { dense: { size: 4 } },
      })
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'alpha', { embedding: [1, 0, 0, 0] })])

      // Another process on the made collection uses its size, and refuses an embedding of another.
      const other = new QdrantChunkIndex({ url: qdrant.url, collection: index.collection, dimensions: learn })
      await expect(other.replaceVideoChunks('v2', [chunk('v2', 0, 'beta', { embedding: [1, 0] })])).rejects.toThrow(
        EmbeddingDimensionError,
      )
      expect(asked).toBe(1)

      // A failed probe is not kept: the next use asks again.
      const flaky = open({ dimensions: async () => (asked++ === 1 ? Promise.reject(new Error('model down')) : 4) })
      await expect(flaky.init()).rejects.toThrow('model down')
      await flaky.init()
      expect(asked).toBe(3)
    })

    it('adds payload indexes missing from an existing collection, and refuses one without the bm25 vector', async () => {
      const raw = new QdrantClient({ url: qdrant.url, checkCompatibility: false })
      const collection = `chunks-${++collections}`
      await raw.createCollection(collection, { sparse_vectors: { bm25: { modifier: 'idf' } } })
      await raw.createPayloadIndex(collection, { field_name: 'videoId', field_schema: 'keyword', wait: true })
      const since = qdrant.requests.length
      await new QdrantChunkIndex({ url: qdrant.url, collection }).init()
      expect(
        sent(collection, since).map((request) => [
          request.call,
          (request.body as { field_name?: string } | undefined)?.field_name,
        ]),
      ).toEqual([
        ['GET /exists', undefined],
        ['GET /', undefined],
        ['PUT /index', 'channelId'],
        ['PUT /index', 'publishedAt'],
      ])

      const foreign = `chunks-${++collections}`
      await raw.createCollection(foreign, { sparse_vectors: { text: {} } })
      await expect(new QdrantChunkIndex({ url: qdrant.url, collection: foreign }).init()).rejects.toThrow(
        /no sparse vector "bm25"/,
      )
    })
  })

  describe('replaceVideoChunks', () => {
    it("upserts named vectors and the payload, then deletes the video's other points by filter", async () => {
      const index = open()
      await index.init()
      const records = [
        chunk('v1', 0, 'quantum entanglement explained simply', {
          channelId: 'UC1',
          publishedAt: '2024-02-03T04:05:06.000Z',
          embedding: [0.1, 0.2, 0.3, 0.4],
        }),
        chunk('v1', 1, 'no embedding here'),
      ]
      const since = qdrant.requests.length
      await index.replaceVideoChunks('v1', records)
      const [upsert, remove, ...rest] = sent(index.collection, since)
      expect(rest).toEqual([])
      expect(upsert!.call).toBe('PUT /points')
      expect(upsert!.query).toEqual({ wait: 'true' })
      expect(upsert!.body).toEqual({
        points: [
          {
            id: chunkId('v1', 0),
            vector: { dense: [0.1, 0.2, 0.3, 0.4], bm25: storedSparse(records[0]!) },
            payload: {
              id: chunkId('v1', 0),
              videoId: 'v1',
              chunkIndex: 0,
              title: 'Video v1',
              channelId: 'UC1',
              publishedAt: '2024-02-03T04:05:06.000Z',
              url: 'https://www.youtube.com/watch?v=v1',
              start: 0,
              end: 20,
              text: 'quantum entanglement explained simply',
            },
          },
          {
            id: chunkId('v1', 1),
            vector: { bm25: storedSparse(records[1]!) },
            payload: {
              id: chunkId('v1', 1),
              videoId: 'v1',
              chunkIndex: 1,
              title: 'Video v1',
              url: 'https://www.youtube.com/watch?v=v1',
              start: 20,
              end: 40,
              text: 'no embedding here',
            },
          },
        ],
      })
      expect(remove!.call).toBe('POST /points/delete')
      expect(remove!.query).toEqual({ wait: 'true' })
      expect(remove!.body).toEqual({
        filter: {
          must: [{ key: 'videoId', match: { value: 'v1' } }],
          must_not: [{ has_id: [chunkId('v1', 0), chunkId('v1', 1)] }],
        },
      })
    })

    it('replays idempotently and drops the chunks a re-index no longer has', async () => {
      const index = open()
      const three = [chunk('v1', 0, 'alpha'), chunk('v1', 1, 'beta'), chunk('v1', 2, 'gamma')]
      await index.replaceVideoChunks('v1', three)
      await index.replaceVideoChunks('v1', three)
      await index.replaceVideoChunks('v2', [chunk('v2', 0, 'alpha')])
      expect(await index.countVideo('v1')).toBe(3)
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'delta')])
      expect(await index.countVideo('v1')).toBe(1)
      expect(await index.countVideo('v2')).toBe(1)

      const since = qdrant.requests.length
      await index.replaceVideoChunks('v1', [])
      // Nothing to upsert: only the delete, of every point of the video.
      expect(sent(index.collection, since).map((request) => [request.call, request.body])).toEqual([
        ['POST /points/delete', { filter: { must: [{ key: 'videoId', match: { value: 'v1' } }] } }],
      ])
      expect(await index.countVideo('v1')).toBe(0)
    })

    it('upserts in batches of at most 256 points', async () => {
      const index = open()
      const records = Array.from({ length: 600 }, (_, i) => chunk('big', i, `telemetry sample ${i}`))
      const since = qdrant.requests.length
      await index.replaceVideoChunks('big', records)
      const upserts = sent(index.collection, since).filter((request) => request.call === 'PUT /points')
      expect(upserts.map((request) => (request.body as { points: unknown[] }).points.length)).toEqual([256, 256, 88])
      expect(await index.countVideo('big')).toBe(600)

      const small = open({ batchSize: 2 })
      await small.replaceVideoChunks(
        'v1',
        records.slice(0, 5).map((record) => ({ ...record, videoId: 'v1' })),
      )
      expect(sent(small.collection).filter((request) => request.call === 'PUT /points')).toHaveLength(3)
      expect(() => open({ batchSize: 257 })).toThrow(RangeError)
    })

    it('leaves out an empty sparse vector', async () => {
      const index = open()
      const since = qdrant.requests.length
      await index.replaceVideoChunks('v1', [chunk('v1', 0, '😀 … !', { title: '', embedding: [1, 0, 0, 0] })])
      const upsert = sent(index.collection, since).find((request) => request.call === 'PUT /points')
      expect((upsert!.body as { points: { vector: unknown }[] }).points[0]!.vector).toEqual({ dense: [1, 0, 0, 0] })
    })

    it('checks every chunk before writing anything', async () => {
      const index = open()
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'alpha')])
      const since = qdrant.requests.length
      await expect(index.replaceVideoChunks('v1', [chunk('v1', 0, 'alpha'), chunk('v2', 1, 'beta')])).rejects.toThrow(
        /belongs to video v2/,
      )
      await expect(index.replaceVideoChunks('v1', [chunk('v1', 0, 'a'), chunk('v1', 0, 'b')])).rejects.toThrow(
        /appears twice/,
      )
      await expect(
        index.replaceVideoChunks('v1', [
          chunk('v1', 0, 'alpha', { embedding: [1, 0, 0, 0] }),
          chunk('v1', 1, 'beta', { embedding: [1, 0] }),
        ]),
      ).rejects.toThrow(EmbeddingDimensionError)
      expect(sent(index.collection, since)).toEqual([])
      expect(await index.countVideo('v1')).toBe(1)

      const sparseOnly = open({ dimensions: undefined })
      await expect(
        sparseOnly.replaceVideoChunks('v1', [chunk('v1', 0, 'alpha', { embedding: [1, 0, 0, 0] })]),
      ).rejects.toThrow(/sparse-only/)
    })
  })

  describe('deleteVideo and countVideo', () => {
    it('counts exactly, then deletes by filter, and returns the count', async () => {
      const index = open()
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'orbital mechanics'), chunk('v1', 1, 'orbital decay')])
      await index.replaceVideoChunks('v2', [chunk('v2', 0, 'orbital resonance')])
      const since = qdrant.requests.length
      expect(await index.deleteVideo('v1')).toBe(2)
      const byVideo = { must: [{ key: 'videoId', match: { value: 'v1' } }] }
      expect(sent(index.collection, since).map((request) => [request.call, request.body, request.query])).toEqual([
        ['POST /points/count', { filter: byVideo, exact: true }, {}],
        ['POST /points/delete', { filter: byVideo }, { wait: 'true' }],
      ])
      const again = qdrant.requests.length
      expect(await index.deleteVideo('v1')).toBe(0)
      // Nothing left to delete: no delete request.
      expect(sent(index.collection, again).map((request) => request.call)).toEqual(['POST /points/count'])
      expect(await index.countVideo('v2')).toBe(1)
    })
  })

  describe('search', () => {
    const seed = async (index: QdrantChunkIndex) => {
      await index.replaceVideoChunks('a', [
        chunk('a', 0, 'benchmarking results for a', {
          channelId: 'UC1',
          publishedAt: '2023-01-01T00:00:00.000Z',
          embedding: [1, 0, 0, 0],
        }),
      ])
      await index.replaceVideoChunks('b', [
        chunk('b', 0, 'benchmarking results for b', {
          channelId: 'UC2',
          publishedAt: '2024-06-01T00:00:00.000Z',
          embedding: [0, 1, 0, 0],
        }),
      ])
      await index.replaceVideoChunks('c', [
        chunk('c', 0, 'cooking pasta for dinner', {
          channelId: 'UC2',
          publishedAt: '2025-01-01T00:00:00.000Z',
          embedding: [0.9, 0.1, 0, 0],
        }),
      ])
    }

    it('fuses the BM25 and dense prefetches with RRF, each filtered, when there is an embedding', async () => {
      const index = open()
      await seed(index)
      const since = qdrant.requests.length
      const hits = await index.search({
        text: 'Benchmarking?',
        embedding: [1, 0, 0, 0],
        limit: 5,
        filter: { videoIds: ['a', 'b', 'c'], channelIds: ['UC1', 'UC2'], publishedAfter: '2023-06-01T00:00:00.000Z' },
      })
      const filter = {
        must: [
          { key: 'videoId', match: { any: ['a', 'b', 'c'] } },
          { key: 'channelId', match: { any: ['UC1', 'UC2'] } },
          { key: 'publishedAt', range: { gt: '2023-06-01T00:00:00.000Z' } },
        ],
      }
      const [query, ...rest] = sent(index.collection, since)
      expect(rest).toEqual([])
      expect(query!.call).toBe('POST /points/query')
      expect(query!.body).toEqual({
        prefetch: [
          { query: sparseQueryVector('benchmarking'), using: 'bm25', limit: 50, filter },
          { query: [1, 0, 0, 0], using: 'dense', limit: 50, filter },
        ],
        query: { fusion: 'rrf' },
        filter,
        limit: 5,
        with_payload: true,
      })
      // "a" is filtered out by date; "c" has no "benchmarking" but its vector is close; "b" is in both lists.
      expect(hits.map((hit) => hit.videoId)).toEqual(['b', 'c'])
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score)
    })

    it('asks for a plain sparse query on bm25 without an embedding, and maps points back to hits', async () => {
      const index = open()
      await seed(index)
      const since = qdrant.requests.length
      const hits = await index.search({
        text: 'benchmarking results',
        limit: 5,
        filter: { videoIds: [], channelIds: [] },
      })
      expect(sent(index.collection, since).map((request) => request.body)).toEqual([
        { query: sparseQueryVector('benchmarking results'), using: 'bm25', limit: 5, with_payload: true },
      ])
      expect(hits.map((hit) => hit.videoId).sort()).toEqual(['a', 'b'])
      const { embedding: _embedding, ...fields } = chunk('a', 0, 'benchmarking results for a', {
        channelId: 'UC1',
        publishedAt: '2023-01-01T00:00:00.000Z',
      })
      expect(hits.find((hit) => hit.videoId === 'a')).toEqual({ ...fields, score: expect.any(Number) })
      for (const hit of hits) expect(hit.score).toBeGreaterThan(0)
    })

    it("keeps a chunk's chapter in its payload and gives it back on the hit", async () => {
      const index = open()
      const record = chunk('ch', 0, 'zygomorphic flowers', { chapter: { title: 'Petals', start: 61.5 } })
      await index.replaceVideoChunks('ch', [record])
      const [hit] = await index.search({ text: 'zygomorphic', limit: 1 })
      expect(hit?.chapter).toEqual({ title: 'Petals', start: 61.5 })
    })

    it('sends nothing for a query without words and no embedding, and only the dense prefetch with one', async () => {
      const index = open()
      await seed(index)
      const since = qdrant.requests.length
      expect(await index.search({ text: ' -- ( " * ', limit: 5 })).toEqual([])
      expect(sent(index.collection, since)).toEqual([])

      const hits = await index.search({ text: '', embedding: [0, 1, 0, 0], limit: 2 })
      expect(sent(index.collection, since).map((request) => request.body)).toEqual([
        {
          prefetch: [{ query: [0, 1, 0, 0], using: 'dense', limit: 50 }],
          query: { fusion: 'rrf' },
          limit: 2,
          with_payload: true,
        },
      ])
      expect(hits[0]?.videoId).toBe('b')
    })

    it('searches BM25 alone in a sparse-only collection, whatever the embedding', async () => {
      const index = open({ dimensions: undefined })
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'a zygomorphic flower')])
      const since = qdrant.requests.length
      const hits = await index.search({ text: 'zygomorphic', embedding: [1, 0, 0, 0], limit: 5 })
      expect(sent(index.collection, since).map((request) => request.body)).toEqual([
        { query: sparseQueryVector('zygomorphic'), using: 'bm25', limit: 5, with_payload: true },
      ])
      expect(hits.map((hit) => hit.id)).toEqual([chunkId('v1', 0)])
    })

    it('asks each list for enough candidates for fusion', async () => {
      const index = open()
      await index.init()
      const since = qdrant.requests.length
      await index.search({ text: 'x', embedding: [1, 0, 0, 0], limit: 20 })
      await index.search({ text: 'x', embedding: [1, 0, 0, 0], limit: 2000 })
      const limits = sent(index.collection, since).map((request) =>
        (request.body as { prefetch: { limit: number }[] }).prefetch.map((p) => p.limit),
      )
      expect(limits).toEqual([
        [100, 100],
        [2000, 2000],
      ])
    })

    it('refuses a query embedding of another size, a bad limit and a bad date', async () => {
      const index = open()
      await expect(index.search({ text: 'x', embedding: [1, 0], limit: 5 })).rejects.toThrow(EmbeddingDimensionError)
      await expect(index.search({ text: 'x', limit: 0 })).rejects.toThrow(RangeError)
      await expect(index.search({ text: 'x', limit: 5, filter: { publishedAfter: 'last week' } })).rejects.toThrow(
        RangeError,
      )
    })
  })

  describe('errors', () => {
    it('ping answers when Qdrant does, even before the collection exists', async () => {
      const index = open()
      await expect(index.ping()).resolves.toBeUndefined()
      expect(sent(index.collection).map((request) => request.call)).toEqual(['GET /exists'])
    })

    it('ping names Qdrant and the URL when nothing listens there', async () => {
      // A port that was free a moment ago: nothing listens on it now.
      const server = net.createServer()
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as net.AddressInfo
      await new Promise<void>((resolve) => server.close(() => resolve()))
      const url = `http://127.0.0.1:${port}`
      const index = new QdrantChunkIndex({ url, collection: 'c', timeoutMs: 5000 })
      const error = await index.ping().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(QdrantChunkIndexError)
      expect((error as Error).message).toContain(`Qdrant at ${url} cannot be used`)
      expect((error as Error).message).toMatch(/ECONNREFUSED/)
    })

    it("names the call, collection and URL, with Qdrant's own error text, when Qdrant refuses a request", async () => {
      // Every path under a prefix the fake does not serve is a 404 in Qdrant's error envelope.
      const client = new QdrantClient({ url: qdrant.url, prefix: '/elsewhere', checkCompatibility: false })
      const index = new QdrantChunkIndex({ url: qdrant.url, collection: 'c', client })
      const error = await index.countVideo('v1').then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(QdrantChunkIndexError)
      expect((error as Error).message).toBe(
        `Qdrant collectionExists for collection "c" at ${qdrant.url} failed: HTTP 404: Not found: /elsewhere/collections/c/exists`,
      )
      // init() is not cached after a failure: the next call tries again.
      await expect(index.init()).rejects.toThrow(QdrantChunkIndexError)
    })
  })
})

// The behaviour suite runs against a real Qdrant only: the project's GitHub workflow starts a
// Qdrant service container and sets QDRANT_URL. Qdrant cannot run on this machine (no Docker,
// no internet), and the fake above only shapes requests, so without QDRANT_URL it is skipped.
describe.runIf(process.env.QDRANT_URL)('QdrantChunkIndex against Qdrant at QDRANT_URL', () => {
  const url = process.env.QDRANT_URL ?? ''
  const apiKey = process.env.QDRANT_API_KEY
  let opened = 0
  chunkIndexConformance('QdrantChunkIndex', async () => {
    // A fresh collection per test, 4-dimensional like the suite's embeddings; dropped on close.
    const collection = `ytrag_conformance_${process.pid}_${Date.now()}_${++opened}`
    const index = new QdrantChunkIndex({ url, collection, dimensions: 4, ...(apiKey ? { apiKey } : {}) })
    await index.init()
    const raw = new QdrantClient({ url, ...(apiKey ? { apiKey } : {}), checkCompatibility: false })
    index.close = async () => {
      await raw.deleteCollection(collection)
    }
    return index
  })
})
