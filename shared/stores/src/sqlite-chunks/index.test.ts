import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { chunkId } from '../chunk-id/index.ts'
import { chunkIndexConformance } from '../conformance/chunks.ts'
import type { ChunkRecord } from '../ports.ts'
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
    expect(hit && 'chapter' in hit).toBe(false)
    await index.replaceVideoChunks('new', [{ ...chunk('new', 0, 'zygomorphic again'), chapter: { title: 'Two', start: 0 } }])
    expect((await index.search({ text: 'again', limit: 1 }))[0]?.chapter).toEqual({ title: 'Two', start: 0 })
    const sentences = [{ offset: 0, start: 0 }, { offset: 12, start: 0.5 }]
    await index.replaceVideoChunks('newer', [{ ...chunk('newer', 0, 'zygomorphic. sentences'), sentences }])
    expect((await index.search({ text: 'sentences', limit: 1 }))[0]?.sentences).toEqual(sentences)
    await index.close()
    // Opened again, nothing is added twice, and the old chunk is still there.
    const reopened = new SqliteChunkIndex({ path: file })
    expect(await reopened.countVideo('old')).toBe(1)
    await reopened.close()
    const raw = new DatabaseSync(file)
    expect(raw.prepare('PRAGMA user_version').get()).toEqual({ user_version: 2 })
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
    await expect(index.replaceVideoChunks('b', [chunk('b', 0, 'wrong size', [1, 0])])).rejects.toThrow(EmbeddingDimensionError)
    // The failed write left nothing behind.
    expect(await index.countVideo('b')).toBe(0)
    await expect(index.search({ text: 'vector', embedding: [1, 0], limit: 3 })).rejects.toThrow(EmbeddingDimensionError)
    await index.close()

    expect(() => new SqliteChunkIndex({ path: file, dimensions: 4 })).toThrow(EmbeddingDimensionError)
    const reopened = new SqliteChunkIndex({ path: file, dimensions: 3 })
    expect((await reopened.search({ text: 'vector', embedding: [1, 0, 0], limit: 3 })).map((hit) => hit.videoId)).toEqual(['a'])
    await reopened.close()
  })

  it('enforces the dimension it was opened with before any vector is stored', async () => {
    const index = new SqliteChunkIndex({ path: freshFile(), dimensions: 2 })
    await expect(index.replaceVideoChunks('a', [chunk('a', 0, 'x', [1, 0, 0])])).rejects.toThrow(EmbeddingDimensionError)
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

  it('removes a video\'s vectors with its chunks', async () => {
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
