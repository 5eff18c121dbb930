import { describe, expect, it } from 'vitest'
import type { Segment } from '../captions/index.ts'
import { chunkTranscript, type Chunk } from './index.ts'

/** mulberry32: a small seeded PRNG, so a failing transcript can be regenerated. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = state
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

const VOCABULARY = ['cache', 'key', 'server', 'the', 'a', 'invalidation', 'is', 'hard', 'we', 'distributed', 'consistency', 'x']

function generatedTranscript(seed: number, count: number): Segment[] {
  const random = seededRandom(seed)
  const segments: Segment[] = []
  let time = random() * 3
  for (let index = 0; index < count; index++) {
    // Mostly caption-sized lines, now and then a very long one (a creator's paragraph cue).
    const wordCount = random() < 0.03 ? 150 + Math.floor(random() * 200) : 1 + Math.floor(random() * 14)
    const words = Array.from({ length: wordCount }, () => VOCABULARY[Math.floor(random() * VOCABULARY.length)]!)
    const ending = random() < 0.3 ? ['.', '?', '!'][Math.floor(random() * 3)]! : ''
    const duration = 0.2 + random() * (wordCount > 100 ? 60 : 7)
    segments.push({ start: time, end: time + duration, text: words.join(' ') + ending })
    time += duration + (random() < 0.2 ? random() * 15 : 0)
  }
  return segments
}

const words = (text: string) => text.split(/\s+/).filter(Boolean)

/** The chunk holding each segment's first word, found by walking both word lists. */
function chunkOfEachSegment(segments: Segment[], chunks: Chunk[]): Chunk[] {
  const owners = chunks.flatMap((chunk) => words(chunk.text).map(() => chunk))
  let position = 0
  return segments.map((segment) => {
    const owner = owners[position]!
    position += words(segment.text).length
    return owner
  })
}

describe('chunkTranscript', () => {
  it('gives no chunks for no segments', () => {
    expect(chunkTranscript([])).toEqual([])
    expect(chunkTranscript([{ start: 0, end: 1, text: '  ' }])).toEqual([])
  })

  it('joins consecutive segments with spaces and ends at the last segment', () => {
    expect(
      chunkTranscript([
        { start: 1, end: 3, text: 'so today' },
        { start: 3, end: 5, text: ' we talk\nabout ' },
        { start: 5, end: 6.5, text: 'caching' },
      ]),
    ).toEqual([{ index: 0, start: 1, end: 6.5, text: 'so today we talk about caching' }])
  })

  it('starts a chunk when a segment would start more than maxSpanSeconds after it', () => {
    const segments = Array.from({ length: 11 }, (_, index) => ({ start: index * 5, end: index * 5 + 5, text: `s${index}` }))
    expect(chunkTranscript(segments)).toEqual([
      { index: 0, start: 0, end: 25, text: 's0 s1 s2 s3 s4' },
      { index: 1, start: 25, end: 50, text: 's5 s6 s7 s8 s9' },
      { index: 2, start: 50, end: 55, text: 's10' },
    ])
    expect(chunkTranscript(segments, { maxSpanSeconds: 7 }).map((chunk) => chunk.text)).toEqual([
      's0 s1',
      's2 s3',
      's4 s5',
      's6 s7',
      's8 s9',
      's10',
    ])
  })

  it('starts a chunk when the text would grow past maxChars', () => {
    const segments = ['aaaa', 'bbbb', 'cccc', 'dd'].map((text, index) => ({ start: index, end: index + 1, text }))
    expect(chunkTranscript(segments, { maxChars: 9 }).map((chunk) => chunk.text)).toEqual(['aaaa bbbb', 'cccc dd'])
  })

  it('breaks at a sentence end once the chunk covers half the span', () => {
    const segments = [
      { start: 0, end: 4, text: 'Caching starts' },
      { start: 4, end: 8, text: 'simply.' },
      { start: 8, end: 12, text: 'Then it' },
      { start: 12, end: 16, text: 'gets hard.' },
      { start: 16, end: 19, text: 'Invalidation' },
      { start: 19, end: 22, text: 'is why.' },
    ]
    // At 8 s the chunk ends a sentence but covers less than 10 s, so it goes on.
    expect(chunkTranscript(segments)).toEqual([
      { index: 0, start: 0, end: 16, text: 'Caching starts simply. Then it gets hard.' },
      { index: 1, start: 16, end: 22, text: 'Invalidation is why.' },
    ])
    const unpunctuated = segments.map((segment) => ({ ...segment, text: segment.text.replace('.', '') }))
    expect(chunkTranscript(unpunctuated).map((chunk) => chunk.start)).toEqual([0])
  })

  it('does not break at a sentence end when the next segment ends a sentence too', () => {
    const segments = Array.from({ length: 8 }, (_, index) => ({ start: index * 4, end: index * 4 + 4, text: `Line ${index}.` }))
    expect(chunkTranscript(segments).map((chunk) => [chunk.start, chunk.end])).toEqual([
      [0, 24],
      [24, 32],
    ])
  })

  it('splits a segment longer than maxChars at words, interpolating times', () => {
    const chunks = chunkTranscript(
      [
        { start: 0, end: 1, text: 'before' },
        { start: 1, end: 20, text: 'aaaa bbbb cccc dddd' },
        { start: 20, end: 21, text: 'after' },
      ],
      { maxChars: 9 },
    )
    // "cccc" is character 10 of 19, so its piece starts 10/19 of the way through 1..20 s.
    expect(chunks).toEqual([
      { index: 0, start: 0, end: 1, text: 'before' },
      { index: 1, start: 1, end: 11, text: 'aaaa bbbb' },
      { index: 2, start: 11, end: 20, text: 'cccc dddd' },
      { index: 3, start: 20, end: 21, text: 'after' },
    ])
  })

  it('cuts a word longer than maxChars', () => {
    // 12 characters over 12 seconds: a second per character.
    expect(chunkTranscript([{ start: 0, end: 12, text: 'abcdefghij k' }], { maxChars: 4 })).toEqual([
      { index: 0, start: 0, end: 4, text: 'abcd' },
      { index: 1, start: 4, end: 8, text: 'efgh' },
      { index: 2, start: 8, end: 12, text: 'ij k' },
    ])
  })

  it('rejects limits that cannot be met', () => {
    expect(() => chunkTranscript([], { maxSpanSeconds: 0 })).toThrow(RangeError)
    expect(() => chunkTranscript([], { maxChars: 0 })).toThrow(RangeError)
    expect(() => chunkTranscript([], { maxChars: Number.NaN })).toThrow(RangeError)
  })

  for (const [seed, options] of [
    [1, {}],
    [7, {}],
    [42, { maxSpanSeconds: 8, maxChars: 120 }],
    [2024, { maxSpanSeconds: 45, maxChars: 300 }],
  ] as const) {
    it(`keeps every limit over a generated 300-segment transcript (seed ${seed})`, () => {
      const { maxSpanSeconds = 20, maxChars = 1000 }: { maxSpanSeconds?: number; maxChars?: number } = options
      const segments = generatedTranscript(seed, 300)
      const chunks = chunkTranscript(segments, options)

      expect(chunks.flatMap((chunk) => words(chunk.text))).toEqual(segments.flatMap((segment) => words(segment.text)))
      expect(chunks.map((chunk) => chunk.index)).toEqual(chunks.map((_, index) => index))
      expect(chunks.some((chunk) => chunk.text.length > maxChars / 2)).toBe(true)
      for (const chunk of chunks) {
        expect(chunk.text.length).toBeLessThanOrEqual(maxChars)
        expect(chunk.end).toBeGreaterThanOrEqual(chunk.start)
      }
      for (const [previous, next] of chunks.slice(1).map((chunk, index) => [chunks[index]!, chunk] as const)) {
        expect(next.start).toBeGreaterThanOrEqual(previous.start)
        expect(next.end).toBeGreaterThanOrEqual(previous.end)
      }
      const owners = chunkOfEachSegment(segments, chunks)
      segments.forEach((segment, index) => {
        expect(segment.start - owners[index]!.start).toBeLessThanOrEqual(maxSpanSeconds)
        expect(segment.start - owners[index]!.start).toBeGreaterThanOrEqual(0)
      })
    })
  }
})
