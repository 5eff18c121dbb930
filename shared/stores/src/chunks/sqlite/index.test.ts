import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { chunkId } from '../chunk-id/index.ts'
import { chunkIndexConformance } from '../conformance.ts'
import type { ChunkRecord } from '../../ports.ts'
import { EmbeddingDimensionError, SqliteChunkIndex } from './index.ts'

const dirs: string[] = []
const freshFile = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ytrag-chunks-'))
  dirs.push(dir)
  return path.join(dir, 'state', 'chunks.sqlite')
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

chunkIndexConformance('SqliteChunkIndex', async () => new SqliteChunkIndex({ path: freshFile() }))
chunkIndexConformance(
  'SqliteChunkIndex with reader threads',
  async () => new SqliteChunkIndex({ path: freshFile(), searchThreads: 2 }),
)

const chunk = (videoId: string, chunkIndex: number, text: string, embedding?: number[]): ChunkRecord => ({
  id: chunkId(videoId, chunkIndex),
  videoId,
  chunkIndex,
  title: 't',
  url: 'u',
  start: 0,
  end: 1,
  text,
  ...(embedding ? { embedding } : {}),
})

describe('SqliteChunkIndex', () => {
  it('adds the chapter and sentences columns to a file made before them, keeping its chunks', async () => {
    const file = freshFile()
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const old = new DatabaseSync(file)
    old.exec(`CREATE TABLE chunks (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, video_id TEXT NOT NULL, chunk_index INTEGER NOT NULL,
        title TEXT NOT NULL, channel_id TEXT, published_at TEXT, url TEXT NOT NULL, start REAL NOT NULL, end REAL NOT NULL, text TEXT NOT NULL) STRICT;
      CREATE VIRTUAL TABLE chunks_fts USING fts5(text, title, content='', contentless_delete=1, tokenize='porter unicode61');
      INSERT INTO chunks (rowid, id, video_id, chunk_index, title, url, start, end, text) VALUES (1, 'c0', 'old', 0, 't', 'u', 0, 1, 'zygomorphic layout');
      INSERT INTO chunks_fts (rowid, text, title) VALUES (1, 'zygomorphic layout', 't');`)
    old.close()
    const index = new SqliteChunkIndex({ path: file })
    const [hit] = await index.search({ text: 'zygomorphic', limit: 1 })
    expect(hit).toMatchObject({ videoId: 'old', text: 'zygomorphic layout' })
    // The FTS5 table was rebuilt with a chapter column, from the chunks: nothing is lost.
    expect(new DatabaseSync(file).prepare('PRAGMA user_version').get()).toEqual({ user_version: 3 })
    expect(hit && 'chapter' in hit).toBe(false)
    await index.replaceVideoChunks('new', [
      { ...chunk('new', 0, 'zygomorphic again'), chapter: { title: 'Two', start: 0 } },
    ])
    expect((await index.search({ text: 'again', limit: 1 }))[0]?.chapter).toEqual({ title: 'Two', start: 0 })
    // The chapter's title is searchable.
    expect((await index.search({ text: 'two', limit: 1 }))[0]?.videoId).toBe('new')
    const sentences = [
      { offset: 0, start: 0 },
      { offset: 12, start: 0.5 },
    ]
    await index.replaceVideoChunks('newer', [{ ...chunk('newer', 0, 'zygomorphic. sentences'), sentences }])
    expect((await index.search({ text: 'sentences', limit: 1 }))[0]?.sentences).toEqual(sentences)
    await index.close()
    // Opened again, nothing is added twice, and the old chunk is still there.
    const reopened = new SqliteChunkIndex({ path: file })
    expect(await reopened.countVideo('old')).toBe(1)
    await reopened.close()
    const raw = new DatabaseSync(file)
    expect(raw.prepare('PRAGMA user_version').get()).toEqual({ user_version: 3 })
    raw.close()
  })

  it('refuses a file of a newer schema version, changing nothing', async () => {
    const file = freshFile()
    await new SqliteChunkIndex({ path: file }).close()
    const raw = new DatabaseSync(file)
    raw.exec('PRAGMA user_version = 99')
    raw.close()
    expect(() => new SqliteChunkIndex({ path: file })).toThrow(/schema version 99/)
    const after = new DatabaseSync(file)
    expect(after.prepare('PRAGMA user_version').get()).toEqual({ user_version: 99 })
    after.close()
  })

  it('fixes the dimension on the first embedding, and keeps it across reopening', async () => {
    const file = freshFile()
    const index = new SqliteChunkIndex({ path: file })
    await index.replaceVideoChunks('a', [chunk('a', 0, 'plain text first')])
    await index.replaceVideoChunks('a', [chunk('a', 0, 'now with a vector', [1, 0, 0])])
    await expect(index.replaceVideoChunks('b', [chunk('b', 0, 'wrong size', [1, 0])])).rejects.toThrow(
      EmbeddingDimensionError,
    )
    // The failed write left nothing behind.
    expect(await index.countVideo('b')).toBe(0)
    await expect(index.search({ text: 'vector', embedding: [1, 0], limit: 3 })).rejects.toThrow(EmbeddingDimensionError)
    await index.close()

    expect(() => new SqliteChunkIndex({ path: file, dimensions: 4 })).toThrow(EmbeddingDimensionError)
    const reopened = new SqliteChunkIndex({ path: file, dimensions: 3 })
    expect(
      (await reopened.search({ text: 'vector', embedding: [1, 0, 0], limit: 3 })).map((hit) => hit.videoId),
    ).toEqual(['a'])
    await reopened.close()
  })

  it('enforces the dimension it was opened with before any vector is stored', async () => {
    const index = new SqliteChunkIndex({ path: freshFile(), dimensions: 2 })
    await expect(index.replaceVideoChunks('a', [chunk('a', 0, 'x', [1, 0, 0])])).rejects.toThrow(
      EmbeddingDimensionError,
    )
    await index.replaceVideoChunks('a', [chunk('a', 0, 'x', [1, 0])])
    await index.close()
  })

  it('searches by vector alone when the text has no word', async () => {
    const index = new SqliteChunkIndex({ path: freshFile() })
    await index.replaceVideoChunks('a', [chunk('a', 0, 'north', [1, 0]), chunk('a', 1, 'east', [0, 1])])
    const hits = await index.search({ text: '?!', embedding: [0.1, 1], limit: 1 })
    expect(hits.map((hit) => hit.text)).toEqual(['east'])
    await index.close()
  })

  it("removes a video's vectors with its chunks", async () => {
    const index = new SqliteChunkIndex({ path: freshFile() })
    await index.replaceVideoChunks('a', [chunk('a', 0, 'north', [1, 0])])
    await index.replaceVideoChunks('b', [chunk('b', 0, 'east', [0, 1])])
    expect(await index.deleteVideo('a')).toBe(1)
    const hits = await index.search({ text: '', embedding: [1, 0], limit: 5 })
    expect(hits.map((hit) => hit.videoId)).toEqual(['b'])
    await index.close()
  })

  it('rejects chunks of another video and a bad limit', async () => {
    const index = new SqliteChunkIndex({ path: freshFile() })
    await expect(index.replaceVideoChunks('a', [chunk('b', 0, 'x')])).rejects.toThrow(/belongs to video b/)
    await expect(index.search({ text: 'x', limit: 0 })).rejects.toThrow(RangeError)
    await index.close()
  })

  it('asks for at most 4096 vector candidates (the sqlite-vec limit)', async () => {
    const index = new SqliteChunkIndex({ path: freshFile() })
    await index.replaceVideoChunks('a', [chunk('a', 0, 'north', [1, 0])])
    expect(await index.search({ text: 'north', embedding: [1, 0], limit: 5000 })).toHaveLength(1)
    await index.close()
  })
})

/** A corpus with shared words, several channels and dates, chapters, and embeddings. */
function corpus(videos = 60, perVideo = 12): ChunkRecord[][] {
  const vocabulary = [
    'harbour',
    'fortress',
    'lighthouse',
    'stone',
    'sultan',
    'earthquake',
    'blocks',
    'sea',
    'wall',
    'tower',
    'city',
    'ruins',
  ]
  return Array.from({ length: videos }, (_, v) =>
    Array.from({ length: perVideo }, (_, i) => {
      const words = Array.from({ length: 12 }, (_, w) => vocabulary[(v * 7 + i * 3 + w * w) % vocabulary.length]!)
      return {
        ...chunk(`v${v}`, i, `the ${words.join(' the ')} was there`, [
          Math.sin(v + i),
          Math.cos(v * i),
          (v % 3) / 3,
          0.1,
        ]),
        channelId: `UC${v % 4}`,
        publishedAt: new Date(Date.UTC(2020, v % 12, 1 + i)).toISOString(),
        title: `Talk ${v} about ${vocabulary[v % vocabulary.length]}`,
        ...(i % 4 === 0
          ? { chapter: { title: `Part on ${vocabulary[(v + i) % vocabulary.length]}`, start: i * 20 } }
          : {}),
      }
    }),
  )
}

describe('SqliteChunkIndex search', () => {
  it('ranks the passage that answers a question above one that only repeats its stop words', async () => {
    for (const searchThreads of [0, 1]) {
      const index = new SqliteChunkIndex({ path: freshFile(), searchThreads })
      await index.replaceVideoChunks('alexandria', [
        chunk('alexandria', 0, 'It was a wonder, and it was tall, and it was famous in the ancient world.'),
        chunk('alexandria', 1, 'Later the sultan Qaitbay used the fallen blocks to build a fortress on the same spot.'),
        chunk('alexandria', 2, 'What was left of the city was rebuilt from what was there.'),
        chunk('alexandria', 3, 'Divers found blocks in the harbour; an earthquake had brought the lighthouse down.'),
      ])
      const hits = await index.search({ text: 'what was built from the fallen blocks', limit: 4 })
      expect(hits[0]?.chunkIndex).toBe(1)
      // A question of stop words alone still finds the passages that say them.
      expect((await index.search({ text: 'what was it', limit: 4 })).length).toBeGreaterThan(0)
      await index.close()
    }
  })

  it('widens a word no chunk has to related words the index has, and leaves a word it has alone', async () => {
    for (const searchThreads of [0, 1]) {
      const index = new SqliteChunkIndex({ path: freshFile(), searchThreads })
      await index.replaceVideoChunks('talk', [
        chunk('talk', 0, 'The architect was Sostratus of Cnidus.'),
        chunk('talk', 1, 'There are about a billion bicycles in the world today.'),
        chunk('talk', 2, 'The wax is made by the bees themselves.'),
        chunk('talk', 3, 'The lighthouse stood on the island.'),
        chunk('talk', 4, 'Every wheel was made of wood.'),
      ])
      // "designed" and "bikes" are in no chunk: "architect" and "bicycles" stand for them.
      const designed = await index.search({ text: 'who designed the lighthouse', limit: 4 })
      expect(designed.map((hit) => hit.chunkIndex)).toEqual([0, 3])
      expect(designed[0]!.queryTerms).toEqual([expect.arrayContaining(['design', 'architect']), ['lighthous']])
      expect((await index.search({ text: 'how many bikes are in the world', limit: 4 }))[0]?.chunkIndex).toBe(1)
      expect((await index.search({ text: 'beeswax', limit: 4 }))[0]?.chunkIndex).toBe(2)
      // "bicycles" is in a chunk: it is not widened, so "wheel" (a bicycle's other name) finds nothing.
      const held = await index.search({ text: 'bicycles', limit: 4 })
      expect(held.map((hit) => hit.chunkIndex)).toEqual([1])
      expect(held[0]!.queryTerms).toBeUndefined()
      // What the index holds is asked again once it changes: a chunk that says "bikes" ends the widening.
      expect((await index.search({ text: 'bikes', limit: 4 }))[0]!.queryTerms).toBeDefined()
      await index.replaceVideoChunks('other', [chunk('other', 0, 'Bikes are everywhere.')])
      const said = await index.search({ text: 'bikes', limit: 4 })
      expect(said.map((hit) => [hit.videoId, hit.queryTerms])).toEqual([['other', undefined]])
      await index.close()
    }
  })

  it('weights chapter titles: a chunk in the chapter about a word ranks above one merely in its video', async () => {
    const index = new SqliteChunkIndex({ path: freshFile() })
    await index.replaceVideoChunks('v', [
      { ...chunk('v', 0, 'and then we went on to the next part'), chapter: { title: 'Intro', start: 0 } },
      { ...chunk('v', 1, 'and then we went on to the next part'), chapter: { title: 'Sourdough starter', start: 60 } },
      chunk('v', 2, 'nothing about bread here'),
    ])
    expect((await index.search({ text: 'sourdough', limit: 3 })).map((hit) => hit.chunkIndex)).toEqual([1])
    await index.close()
  })

  it('gives a filtered search exactly the unfiltered ranking restricted to the filter, however narrow', async () => {
    const index = new SqliteChunkIndex({ path: freshFile() })
    for (const chunks of corpus()) await index.replaceVideoChunks(chunks[0]!.videoId, chunks)
    const filters = [
      { channelIds: ['UC1', 'UC2', 'UC3'] }, // most of the 720 match: answered from the top k ranked in FTS5
      { videoIds: ['v3'] }, // a few videos: each one's rowids searched alone
      { videoIds: ['v3', 'v17'], channelIds: ['UC1'] },
      { videoIds: ['v3', 'v4', 'v5', 'v40'] }, // neighbours searched as one range
      { videoIds: ['v2', 'v9', 'v21', 'v33', 'v47', 'v58'] }, // too many ranges: the join over every match
      { publishedAfter: '2020-06-01T00:00:00.000Z' },
      { publishedAfter: '2020-12-01T00:00:00.000Z', channelIds: ['UC0', 'UC2'] },
    ]
    for (const text of ['the stone fortress', 'lighthouse earthquake', 'sea']) {
      const everything = await index.search({ text, limit: 1000 })
      for (const filter of filters) {
        for (const limit of [1, 5, 40]) {
          const expected = everything
            .filter(
              (hit) =>
                (!filter.videoIds || filter.videoIds.includes(hit.videoId)) &&
                (!filter.channelIds || filter.channelIds.includes(hit.channelId!)) &&
                (!filter.publishedAfter || hit.publishedAt! > filter.publishedAfter),
            )
            .slice(0, limit)
          const hits = await index.search({ text, limit, filter })
          expect(
            hits.map((hit) => [hit.id, hit.score]),
            `${text} ${JSON.stringify(filter)} ${limit}`,
          ).toEqual(expected.map((hit) => [hit.id, hit.score]))
        }
      }
    }
    await index.close()
  })

  it('filters exactly to a video whose chunks do not take consecutive rowids (a file an older build wrote)', async () => {
    const file = freshFile()
    const index = new SqliteChunkIndex({ path: file })
    const videos = corpus(20)
    // Two more chunks of v3 by hand: one among the videos indexed after it, one far past every row.
    const addByHand = (rowid: number, chunkIndex: number) => {
      const db = new DatabaseSync(file)
      const text = 'the harbour fortress stone was there'
      db.prepare(
        `INSERT INTO chunks (rowid, id, video_id, chunk_index, title, channel_id, published_at, url, start, end, text)
         VALUES (?, ?, 'v3', ?, 't', 'UC3', '2020-01-04T00:00:00.000Z', 'u', 0, 1, ?)`,
      ).run(rowid, chunkId('v3', chunkIndex), chunkIndex, text)
      db.prepare('INSERT INTO chunks_fts (rowid, text, title) VALUES (?, ?, ?)').run(rowid, text, 't')
      db.close()
    }
    for (const chunks of videos.slice(0, 10)) await index.replaceVideoChunks(chunks[0]!.videoId, chunks)
    addByHand(130, 12)
    for (const chunks of videos.slice(10)) await index.replaceVideoChunks(chunks[0]!.videoId, chunks)
    addByHand(50_000, 13)
    for (const text of ['harbour fortress', 'stone']) {
      const everything = await index.search({ text, limit: 1000 })
      for (const videoIds of [['v3'], ['v3', 'v16']]) {
        const expected = everything.filter((hit) => videoIds.includes(hit.videoId)).slice(0, 20)
        const hits = await index.search({ text, limit: 20, filter: { videoIds } })
        expect(hits.map((hit) => [hit.id, hit.score])).toEqual(expected.map((hit) => [hit.id, hit.score]))
        expect(hits.map((hit) => hit.chunkIndex)).toEqual(expect.arrayContaining([12, 13]))
      }
    }
    await index.close()
  })

  it('gives the same hits from reader threads as on the calling thread', async () => {
    const file = freshFile()
    const inThread = new SqliteChunkIndex({ path: file })
    for (const chunks of corpus()) await inThread.replaceVideoChunks(chunks[0]!.videoId, chunks)
    const pooled = new SqliteChunkIndex({ path: file, searchThreads: 2 })
    const queries: Parameters<SqliteChunkIndex['search']>[0][] = [
      { text: 'what was built from the fallen blocks', limit: 10 },
      { text: 'sultan', limit: 3, filter: { channelIds: ['UC2'] } },
      { text: 'harbour wall', limit: 8, embedding: [0.3, 0.9, 0.1, 0.1] },
      {
        text: 'tower',
        limit: 20,
        embedding: [1, 0, 0, 0],
        filter: { videoIds: ['v1', 'v2'], publishedAfter: '2020-01-05T00:00:00.000Z' },
      },
      { text: 'what is it', limit: 5 },
      { text: '?!', limit: 5, embedding: [0, 1, 0, 0] },
    ]
    const expected = await Promise.all(queries.map((query) => inThread.search(query)))
    expect(expected.every((hits) => hits.length > 0)).toBe(true)
    // The first search runs on the calling thread while a reader thread starts.
    expect(await pooled.search(queries[0]!)).toEqual(expected[0])
    await new Promise((resolve) => setTimeout(resolve, 1000))
    // Concurrently, so both threads serve some of them.
    expect(await Promise.all([...queries, ...queries].map((query) => pooled.search(query)))).toEqual([
      ...expected,
      ...expected,
    ])
    // A write on the main connection is seen by the next search in a thread.
    await inThread.replaceVideoChunks('late', [chunk('late', 0, 'a zygomorphic addition')])
    expect((await pooled.search({ text: 'zygomorphic', limit: 1 }))[0]?.videoId).toBe('late')
    // The errors callers tell apart keep their class.
    await expect(pooled.search({ text: 'x', embedding: [1, 0], limit: 1 })).rejects.toThrow(EmbeddingDimensionError)
    await pooled.close()
    await inThread.close()
  })

  it('gives the same hits while reader threads start, once they run, and after they stopped when idle', async () => {
    const file = freshFile()
    const inThread = new SqliteChunkIndex({ path: file })
    for (const chunks of corpus()) await inThread.replaceVideoChunks(chunks[0]!.videoId, chunks)
    const pooled = new SqliteChunkIndex({ path: file, searchThreads: 1, readerIdleMs: 100 })
    const query = { text: 'harbour wall', limit: 8, embedding: [0.3, 0.9, 0.1, 0.1] }
    const expected = await inThread.search(query)
    expect(expected.length).toBeGreaterThan(0)
    for (let round = 0; round < 3; round++) {
      // A burst while no thread is up (the first, and each after 100 ms idle), then one later.
      expect(await Promise.all([1, 2, 3].map(() => pooled.search(query)))).toEqual([expected, expected, expected])
      await new Promise((resolve) => setTimeout(resolve, 40))
      expect(await pooled.search(query)).toEqual(expected)
      await new Promise((resolve) => setTimeout(resolve, 600))
    }
    await expect(pooled.search({ text: 'x', embedding: [1, 0], limit: 1 })).rejects.toThrow(EmbeddingDimensionError)
    await pooled.close()
    await inThread.close()
  })

  it('lets the process exit with reader threads started and the index left open, and stops them on close', () => {
    const module = fileURLToPath(new URL('./index.ts', import.meta.url))
    const script = (close: boolean) => `
      import { SqliteChunkIndex } from ${JSON.stringify(module)}
      const index = new SqliteChunkIndex({ path: ${JSON.stringify(freshFile())}, searchThreads: 2, readerIdleMs: 600000 })
      await index.replaceVideoChunks('v', [{ id: 'c', videoId: 'v', chunkIndex: 0, title: 't', url: 'u', start: 0, end: 1, text: 'quiet harbour' }])
      const hits = await Promise.all([index.search({ text: 'harbour', limit: 1 }), index.search({ text: 'harbour', limit: 1 })])
      console.log(hits.flat().length)
      ${close ? 'await index.close(); await index.close()' : ''}`
    for (const close of [false, true]) {
      const started = Date.now()
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script(close)], {
        encoding: 'utf8',
        timeout: 20_000,
      })
      expect(child.stderr.replace(/.*ExperimentalWarning.*\n?|.*--trace-warnings.*\n?/g, '')).toBe('')
      expect(child.stdout.trim()).toBe('2')
      expect(child.status).toBe(0)
      // Far below readerIdleMs: no idle thread held the process.
      expect(Date.now() - started).toBeLessThan(15_000)
    }
  })
})
