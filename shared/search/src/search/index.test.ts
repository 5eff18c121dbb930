import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chunkId, type ChunkRecord } from '@ytrag/stores'
import { SqliteChunkIndex } from '@ytrag/stores/embedded'
import { chunkTranscript } from '@ytrag/transcript'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { extractiveAnswer } from '../extractive/index.ts'
import { searchChunks } from './index.ts'

// The talk: the answer is the fourth sentence, said from 24.6 s, in the chunk's middle.
const SEGMENTS = [
  { start: 0, end: 6, text: 'The lighthouse was built on the island of Pharos, and it was famous.' },
  { start: 6.2, end: 12, text: 'It was tall and it was bright.' },
  { start: 12.5, end: 18, text: 'Earthquakes in the fourteenth century brought the tower down.' },
  { start: 18.4, end: 24.2, text: 'Its stones lay in the harbour for a long time.' },
  { start: 24.6, end: 30, text: 'Later the sultan Qaitbay used the fallen blocks to build a fortress.' },
  { start: 30.5, end: 36, text: 'The fortress still stands.' },
]

describe('searchChunks', () => {
  let dir: string
  let index: SqliteChunkIndex
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ytrag-search-'))
    index = new SqliteChunkIndex({ path: path.join(dir, 'chunks.sqlite') })
  })
  afterEach(async () => {
    await index.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const record = (
    chunk: ReturnType<typeof chunkTranscript>[number],
    extra: Partial<ChunkRecord> = {},
  ): ChunkRecord => ({
    id: chunkId('pharos', chunk.index),
    videoId: 'pharos',
    chunkIndex: chunk.index,
    title: 'The lighthouse',
    url: 'https://www.youtube.com/watch?v=pharos',
    start: chunk.start,
    end: chunk.end,
    text: chunk.text,
    sentences: chunk.sentences,
    ...extra,
  })

  it("gives each hit the moment of its best-matching sentence and links there; start and end stay the chunk's", async () => {
    const chunks = chunkTranscript(SEGMENTS, { maxSpanSeconds: 40 })
    expect(chunks).toHaveLength(1)
    await index.replaceVideoChunks(
      'pharos',
      chunks.map((chunk) => record(chunk)),
    )
    const [hit] = await searchChunks(index, { query: 'what was built from the fallen blocks', limit: 3 })
    expect(hit).toMatchObject({ start: 0, end: 36, moment: 24.6, url: 'https://www.youtube.com/watch?v=pharos&t=24s' })

    const answer = extractiveAnswer('what was built from the fallen blocks', [hit!])
    expect(answer.answer).toBe(
      'From the videos:\n- Later the sultan Qaitbay used the fallen blocks to build a fortress. [1]',
    )
    expect(answer.citations[0]).toMatchObject({ moment: 24.6, url: 'https://www.youtube.com/watch?v=pharos&t=24s' })
  })

  it('links to the sentence that says the word a missing question word was widened to', async () => {
    const chunks = chunkTranscript(
      [
        { start: 0, end: 5, text: 'The lighthouse stood on the island of Pharos.' },
        { start: 5.5, end: 10, text: 'A lighthouse keeper lived there.' },
        { start: 10.5, end: 15, text: 'The architect was Sostratus of Cnidus.' },
      ],
      { maxSpanSeconds: 40 },
    )
    await index.replaceVideoChunks(
      'pharos',
      chunks.map((chunk) => record(chunk)),
    )
    // No chunk says "designed": the index looks for "architect" too, and the moment is where it is said.
    const [hit] = await searchChunks(index, { query: 'who designed the lighthouse', limit: 1 })
    expect(hit?.moment).toBe(10.5)
    expect(hit?.quote).toBe('The architect was Sostratus of Cnidus.')
    // The quick answer quotes what the link plays, not the sentence with the question's own words.
    expect(extractiveAnswer('who designed the lighthouse', [hit!]).answer).toBe(
      'From the videos:\n- The architect was Sostratus of Cnidus. [1]',
    )
  })

  it('gives a chunk stored without sentence times its start as the moment', async () => {
    const [chunk] = chunkTranscript(SEGMENTS, { maxSpanSeconds: 40 })
    const { sentences: _dropped, ...old } = record(chunk!)
    await index.replaceVideoChunks('pharos', [old])
    const [hit] = await searchChunks(index, { query: 'fallen blocks', limit: 1 })
    expect(hit).toMatchObject({ moment: 0, url: 'https://www.youtube.com/watch?v=pharos&t=0s' })
    expect(hit).not.toHaveProperty('quote')
  })

  it('never links after the chunk: a sentence time outside the chunk is held to it', async () => {
    const [chunk] = chunkTranscript(SEGMENTS, { maxSpanSeconds: 40 })
    await index.replaceVideoChunks('pharos', [
      record(chunk!, {
        sentences: [
          { offset: 0, start: 0 },
          { offset: 5, start: 999 },
        ],
      }),
    ])
    const [hit] = await searchChunks(index, { query: 'lighthouse', limit: 1 })
    expect(hit!.moment).toBeLessThanOrEqual(hit!.end)
  })
})
