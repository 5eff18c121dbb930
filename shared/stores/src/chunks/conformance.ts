// The behaviour every ChunkIndex adapter must have. `open` must return an empty index that
// accepts 4-dimensional embeddings; each test opens its own and closes it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { chunkId } from './chunk-id/index.ts'
import type { ChunkIndex, ChunkRecord } from '../ports.ts'

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

/** Filler that shares common words with the queries, so BM25 has something to rank against. */
const FILLER = [
  'in this video we talk about the project and how the team builds it',
  'the speaker explains how the system handles requests from the users',
  'we look at the code and talk about what the function does',
  'thanks for watching this video and see you in the next one',
  'the team talks about the database and the way the data is stored',
  'here is how the project is deployed and how the users reach it',
]

export const HOSTILE_QUERIES = [
  `what's "C++" -foo AND (`,
  '"',
  '(((',
  'NEAR(a b',
  'a OR',
  'AND OR NOT',
  '*',
  '^',
  'title:x',
  "'; DROP TABLE chunks; --",
  '{} [] : + - ~',
  '\\',
  '😀 東京 naïve',
  '',
  '   ',
]

/**
 * Declares the ChunkIndex conformance suite.
 *
 * @example
 * chunkIndexConformance('SqliteChunkIndex', async () => new SqliteChunkIndex({ path: freshFile() }))
 */
export function chunkIndexConformance(name: string, open: () => Promise<ChunkIndex>): void {
  describe(`${name} (ChunkIndex conformance)`, () => {
    let index: ChunkIndex
    beforeEach(async () => {
      index = await open()
    })
    afterEach(async () => {
      await index.close()
    })

    const seedFiller = async (videoId = 'filler') => {
      await index.replaceVideoChunks(
        videoId,
        FILLER.map((text, i) => chunk(videoId, i, text)),
      )
    }

    it('stores chunks and returns every field in a hit', async () => {
      const record = chunk('v1', 0, 'quantum entanglement explained simply', {
        channelId: 'UC1',
        publishedAt: '2024-02-03T04:05:06.000Z',
        start: 12.5,
        end: 31.25,
        title: 'Physics',
        chapter: { title: 'Spooky action — "at a distance"', start: 10.5 },
        sentences: [
          { offset: 0, start: 12.5 },
          { offset: 22, start: 17.75 },
        ],
      })
      await index.replaceVideoChunks('v1', [record])
      expect(await index.countVideo('v1')).toBe(1)
      const [hit] = await index.search({ text: 'entanglement', limit: 5 })
      const { embedding: _unused, ...expected } = record
      expect(hit).toMatchObject(expected)
      expect(hit!.score).toBeGreaterThan(0)
    })

    it('gives no chapter and no sentences for a chunk stored without them', async () => {
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'quantum entanglement explained simply')])
      const [hit] = await index.search({ text: 'entanglement', limit: 5 })
      expect(hit && 'chapter' in hit).toBe(false)
      expect(hit && 'sentences' in hit).toBe(false)
    })

    it('ranks the chunk holding the rare query term first', async () => {
      await seedFiller()
      await index.replaceVideoChunks('v1', [
        chunk('v1', 0, 'the team talks about the project and the users'),
        chunk('v1', 1, 'the serializer uses a zygomorphic layout for the project data'),
        chunk('v1', 2, 'the users talk about the video'),
      ])
      const hits = await index.search({ text: 'how does the project use a zygomorphic layout', limit: 5 })
      expect(hits[0]?.id).toBe(chunkId('v1', 1))
      expect(hits.length).toBeLessThanOrEqual(5)
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score)
    })

    it('stems words: "caching" finds "cached"', async () => {
      await seedFiller()
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'the responses are cached at the edge')])
      const hits = await index.search({ text: 'caching', limit: 5 })
      expect(hits.map((hit) => hit.id)).toEqual([chunkId('v1', 0)])
    })

    it('matches case-insensitively and ignores punctuation', async () => {
      await seedFiller()
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'Kubernetes operators, explained.')])
      const hits = await index.search({ text: 'KUBERNETES?!', limit: 5 })
      expect(hits[0]?.id).toBe(chunkId('v1', 0))
    })

    it('never throws on hostile query text, and gives [] for a query without words', async () => {
      await seedFiller()
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'C++ templates and what foo means')])
      for (const text of HOSTILE_QUERIES) {
        const hits = await index.search({ text, limit: 5 })
        expect(Array.isArray(hits)).toBe(true)
      }
      expect(await index.search({ text: '', limit: 5 })).toEqual([])
      expect(await index.search({ text: ' -- ( " * ', limit: 5 })).toEqual([])
      expect((await index.search({ text: `what's "C++" -foo AND (`, limit: 5 }))[0]?.videoId).toBe('v1')
    })

    it('returns [] when nothing matches', async () => {
      await seedFiller()
      expect(await index.search({ text: 'xylophone', limit: 5 })).toEqual([])
    })

    describe('filters', () => {
      beforeEach(async () => {
        await seedFiller()
        const videos = [
          { videoId: 'a', channelId: 'UC1', publishedAt: '2023-01-01T00:00:00.000Z' },
          { videoId: 'b', channelId: 'UC2', publishedAt: '2024-06-01T00:00:00.000Z' },
          { videoId: 'c', channelId: 'UC2', publishedAt: '2025-01-01T00:00:00.000Z' },
          { videoId: 'd' },
        ]
        for (const { videoId, ...extra } of videos) {
          await index.replaceVideoChunks(videoId, [chunk(videoId, 0, `benchmarking results for ${videoId}`, extra)])
        }
      })

      const videosFor = async (filter: Parameters<ChunkIndex['search']>[0]['filter']) =>
        (await index.search({ text: 'benchmarking', limit: 10, ...(filter ? { filter } : {}) }))
          .map((hit) => hit.videoId)
          .sort()

      it('by video', async () => {
        expect(await videosFor(undefined)).toEqual(['a', 'b', 'c', 'd'])
        expect(await videosFor({ videoIds: ['a', 'c'] })).toEqual(['a', 'c'])
        expect(await videosFor({ videoIds: ['zzz'] })).toEqual([])
      })

      it('by channel', async () => {
        expect(await videosFor({ channelIds: ['UC2'] })).toEqual(['b', 'c'])
        expect(await videosFor({ channelIds: ['UC1', 'UC2'], videoIds: ['a', 'b'] })).toEqual(['a', 'b'])
      })

      it('by publication date, strictly after, leaving out undated chunks', async () => {
        expect(await videosFor({ publishedAfter: '2024-01-01T00:00:00.000Z' })).toEqual(['b', 'c'])
        expect(await videosFor({ publishedAfter: '2024-06-01T00:00:00.000Z', channelIds: ['UC2'] })).toEqual(['c'])
      })

      it('treats an empty list as no filter on that field', async () => {
        expect(await videosFor({ videoIds: [], channelIds: [] })).toEqual(['a', 'b', 'c', 'd'])
      })
    })

    it("replaces a video's chunks: replaying leaves exactly one copy, and fewer chunks drop the rest", async () => {
      const chunks = [chunk('v1', 0, 'alpha particles'), chunk('v1', 1, 'beta decay'), chunk('v1', 2, 'gamma rays')]
      await index.replaceVideoChunks('v1', chunks)
      await index.replaceVideoChunks('v1', chunks)
      expect(await index.countVideo('v1')).toBe(3)
      expect(await index.search({ text: 'alpha', limit: 10 })).toHaveLength(1)
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'delta wing')])
      expect(await index.countVideo('v1')).toBe(1)
      expect(await index.search({ text: 'gamma alpha', limit: 10 })).toEqual([])
      expect((await index.search({ text: 'delta', limit: 10 })).map((hit) => hit.id)).toEqual([chunkId('v1', 0)])
      await index.replaceVideoChunks('v1', [])
      expect(await index.countVideo('v1')).toBe(0)
    })

    it("deletes a video's chunks only", async () => {
      await index.replaceVideoChunks('v1', [chunk('v1', 0, 'orbital mechanics'), chunk('v1', 1, 'orbital decay')])
      await index.replaceVideoChunks('v2', [chunk('v2', 0, 'orbital resonance')])
      expect(await index.deleteVideo('v1')).toBe(2)
      expect(await index.deleteVideo('v1')).toBe(0)
      expect(await index.countVideo('v1')).toBe(0)
      expect(await index.countVideo('v2')).toBe(1)
      expect((await index.search({ text: 'orbital', limit: 10 })).map((hit) => hit.videoId)).toEqual(['v2'])
    })

    it('honours limit', async () => {
      await index.replaceVideoChunks(
        'v1',
        Array.from({ length: 30 }, (_, i) => chunk('v1', i, `telemetry sample number ${i}`)),
      )
      expect(await index.search({ text: 'telemetry', limit: 7 })).toHaveLength(7)
    })

    describe('hybrid search', () => {
      const query = [1, 0, 0, 0]

      it('finds a chunk with no term in common whose vector is closest', async () => {
        await seedFiller()
        await index.replaceVideoChunks('v1', [
          chunk('v1', 0, 'the project uses an event broker', { embedding: [0, 1, 0, 0] }),
          chunk('v1', 1, 'messages wait in a durable queue until consumed', { embedding: [0.98, 0.05, 0, 0] }),
          chunk('v1', 2, 'we cook pasta for dinner', { embedding: [0, 0, 1, 0] }),
        ])
        const hits = await index.search({ text: 'event broker', embedding: query, limit: 5 })
        const ids = hits.map((hit) => hit.id)
        expect(ids).toContain(chunkId('v1', 0))
        expect(ids).toContain(chunkId('v1', 1))
        // Without the embedding the same query cannot find it.
        expect((await index.search({ text: 'event broker', limit: 5 })).map((hit) => hit.id)).not.toContain(
          chunkId('v1', 1),
        )
      })

      it('ranks first the chunk that is best in both lists', async () => {
        await index.replaceVideoChunks('v1', [
          chunk('v1', 0, 'retries with exponential backoff and jitter, backoff explained', {
            embedding: [0.99, 0.1, 0, 0],
          }),
          chunk('v1', 1, 'the client retries once', { embedding: [0, 0, 1, 0] }),
          chunk('v1', 2, 'a talk about backoff', { embedding: [0.6, 0.8, 0, 0] }),
          chunk('v1', 3, 'nothing relevant here at all', { embedding: [0.9, 0.43, 0, 0] }),
          ...FILLER.map((text, i) => chunk('v1', 10 + i, text, { embedding: [0, 0, 0.5, 0.87] })),
        ])
        const hits = await index.search({ text: 'exponential backoff retries', embedding: query, limit: 5 })
        expect(hits[0]?.id).toBe(chunkId('v1', 0))
        for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score)
      })

      it('applies filters to the vector list too', async () => {
        await index.replaceVideoChunks('v1', [chunk('v1', 0, 'apples', { channelId: 'UC1', embedding: [1, 0, 0, 0] })])
        await index.replaceVideoChunks('v2', [
          chunk('v2', 0, 'oranges', { channelId: 'UC2', embedding: [0.9, 0.1, 0, 0] }),
        ])
        const hits = await index.search({
          text: 'bananas',
          embedding: query,
          limit: 5,
          filter: { channelIds: ['UC2'] },
        })
        expect(hits.map((hit) => hit.videoId)).toEqual(['v2'])
        expect(
          await index.search({ text: 'bananas', embedding: query, limit: 5, filter: { videoIds: ['none'] } }),
        ).toEqual([])
      })

      it('ranks by BM25 alone when no chunk has an embedding', async () => {
        await seedFiller()
        await index.replaceVideoChunks('v1', [chunk('v1', 0, 'a zygomorphic flower')])
        const hits = await index.search({ text: 'zygomorphic', embedding: query, limit: 5 })
        expect(hits.map((hit) => hit.id)).toEqual([chunkId('v1', 0)])
      })
    })

    it('answers ping', async () => {
      await expect(index.ping()).resolves.toBeUndefined()
    })
  })
}
