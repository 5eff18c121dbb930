import { describe, expect, it } from 'vitest'
import type { TimedText } from '@ytrag/domain'
import { chunkTranscript, type Chunk } from './index.ts'
import { transcriptFromCaptions } from '../captions/index.ts'
import { rollingCaptions, seededRandom, spokenWords } from '../testing/index.ts'

const VOCABULARY = [
  'cache',
  'key',
  'server',
  'the',
  'a',
  'invalidation',
  'is',
  'hard',
  'we',
  'distributed',
  'consistency',
  'x',
]

function generatedTranscript(seed: number, count: number): TimedText[] {
  const random = seededRandom(seed)
  const segments: TimedText[] = []
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

/** Where each chunk's words are in the transcript's words; fails unless each chunk is a run of them, starting after the one before and no later than its end. */
function wordRuns(segments: TimedText[], chunks: Chunk[]): { from: number; to: number }[] {
  const all = segments.flatMap((segment) => words(segment.text))
  let previous = -1
  let searchFrom = 0
  return chunks.map((chunk) => {
    const own = words(chunk.text)
    // The latest start that fits: the vocabulary is small, so an earlier one may match by chance.
    for (let from = searchFrom; from > previous; from--) {
      if (own.every((word, index) => all[from + index] === word)) {
        previous = from
        searchFrom = from + own.length
        return { from, to: from + own.length }
      }
    }
    throw new Error(
      `chunk ${chunk.index} is not a run of the transcript's words after word ${searchFrom}: ${chunk.text}`,
    )
  })
}

const plain = (chunks: Chunk[]) => chunks.map(({ sentences: _sentences, ...chunk }) => chunk)

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
    ).toMatchObject([{ index: 0, start: 1, end: 6.5, text: 'so today we talk about caching' }])
  })

  it('starts a chunk when a cue would start more than maxSpanSeconds after it', () => {
    const segments = Array.from({ length: 11 }, (_, index) => ({
      start: index * 5,
      end: index * 5 + 5,
      text: `s${index}`,
    }))
    const chunks = chunkTranscript(segments, { overlapSentences: 0 })
    for (const chunk of chunks) expect(chunk.end - 5 - chunk.start).toBeLessThanOrEqual(20)
    expect(chunks.map((chunk) => chunk.text).join(' ')).toBe(segments.map((segment) => segment.text).join(' '))
    expect(chunks.length).toBeGreaterThanOrEqual(3)
  })

  it('starts a chunk when the text would grow past maxChars', () => {
    const segments = ['aaaa.', 'bbbb.', 'cccc.', 'dd.'].map((text, index) => ({ start: index, end: index + 1, text }))
    expect(chunkTranscript(segments, { maxChars: 11, overlapSentences: 0 }).map((chunk) => chunk.text)).toEqual([
      'aaaa. bbbb.',
      'cccc. dd.',
    ])
  })

  it('ends chunks at sentence ends, also where a sentence ends inside a cue', () => {
    // Rolling auto-captions: every line runs on into the next sentence.
    const segments = [
      { start: 0, end: 3, text: 'The moon pulls the sea toward it. When the sun' },
      { start: 3, end: 6, text: 'and moon line up we get spring tides' },
      { start: 6, end: 9, text: 'with the largest range. At half moon the' },
      { start: 9, end: 12, text: 'pull is weakest and we get neap tides.' },
    ]
    const chunks = chunkTranscript(segments, { maxSpanSeconds: 8, overlapSentences: 0 })
    expect(chunks.map((chunk) => chunk.text)).toEqual([
      'The moon pulls the sea toward it. When the sun and moon line up we get spring tides with the largest range.',
      'At half moon the pull is weakest and we get neap tides.',
    ])
    // "At half moon" is 24 of 40 characters into its cue: estimated, then moved a second earlier, never before the cue.
    expect(chunks[1]!.start).toBeGreaterThanOrEqual(6)
    expect(chunks[1]!.start).toBeLessThan(6 + (3 * 24) / 40)
    expect(chunks[0]!.sentences.map((sentence) => sentence.offset)).toEqual([0, 34])
    expect(chunks[0]!.sentences[1]!.start).toBeGreaterThanOrEqual(0)
    expect(chunks[0]!.sentences[1]!.start).toBeLessThan(3 * (34 / 46))
  })

  it('starts the next chunk with the last sentence of the one before, so it keeps its subject', () => {
    const sentences = [
      'Karl Drais built a running machine.',
      'It had two wheels.',
      'It had no pedals.',
      'Riders pushed it.',
      'It faded away.',
    ]
    const segments = sentences.map((text, index) => ({ start: index * 6, end: index * 6 + 5, text }))
    const chunks = chunkTranscript(segments, { maxSpanSeconds: 13 })
    expect(chunks.map((chunk) => chunk.text)).toEqual([
      'Karl Drais built a running machine. It had two wheels. It had no pedals.',
      'It had no pedals. Riders pushed it. It faded away.',
    ])
    expect(chunks[1]!.start).toBe(12)
    expect(chunks[1]!.sentences).toEqual([
      { offset: 0, start: 12 },
      { offset: 18, start: 18 },
      { offset: 36, start: 24 },
    ])
  })

  it('cuts an unpunctuated transcript at pauses between cues, not in the middle of a run of speech', () => {
    // No sentence ends at all (older auto-captions): the pauses after "ready" and "left" are the only breaks.
    const lines = [
      [0, 'feed the starter every day'],
      [2, 'and after a week it is ready'],
      [5.5, 'take one hundred grams of it'],
      [7.5, 'mix it with water and flour'],
      [9.5, 'stir until there is no dry flour left'],
      [13, 'then let the dough rest for an hour'],
      [15, 'before the first fold'],
    ] as const
    const segments = lines.map(([start, text], index) => ({ start, end: lines[index + 1]?.[0] ?? start + 2, text }))
    const chunks = chunkTranscript(segments, { maxSpanSeconds: 12, overlapSentences: 0 })
    expect(chunks.map((chunk) => chunk.start)).toEqual([0, 13])
    // Within a chunk, cue groups end at pauses too, and span at most a quarter of maxSpanSeconds.
    expect(chunks[0]!.sentences.map((sentence) => sentence.start)).toEqual([0, 5.5, 9.5])
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
    expect(plain(chunks)).toEqual([
      { index: 0, start: 0, end: 1, text: 'before' },
      { index: 1, start: 1, end: 11, text: 'aaaa bbbb' },
      { index: 2, start: 11, end: 20, text: 'cccc dddd' },
      { index: 3, start: 20, end: 21, text: 'after' },
    ])
  })

  it('cuts a word longer than maxChars', () => {
    // 12 characters over 12 seconds: a second per character.
    expect(plain(chunkTranscript([{ start: 0, end: 12, text: 'abcdefghij k' }], { maxChars: 4 }))).toEqual([
      { index: 0, start: 0, end: 4, text: 'abcd' },
      { index: 1, start: 4, end: 8, text: 'efgh' },
      { index: 2, start: 8, end: 12, text: 'ij k' },
    ])
  })

  it('rejects limits that cannot be met', () => {
    expect(() => chunkTranscript([], { maxSpanSeconds: 0 })).toThrow(RangeError)
    expect(() => chunkTranscript([], { maxChars: 0 })).toThrow(RangeError)
    expect(() => chunkTranscript([], { maxChars: Number.NaN })).toThrow(RangeError)
    expect(() => chunkTranscript([], { pauseSeconds: -1 })).toThrow(RangeError)
    expect(() => chunkTranscript([], { overlapSentences: 0.5 })).toThrow(RangeError)
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

      // Every chunk is a run of the transcript's words; runs move forward, overlap and leave no gap.
      const runs = wordRuns(segments, chunks)
      expect(runs[0]!.from).toBe(0)
      expect(runs.at(-1)!.to).toBe(segments.flatMap((segment) => words(segment.text)).length)
      for (const [previous, next] of runs.slice(1).map((run, index) => [runs[index]!, run] as const)) {
        expect(next.from).toBeGreaterThan(previous.from)
        expect(next.from).toBeLessThanOrEqual(previous.to)
        expect(next.to).toBeGreaterThan(previous.to)
      }
      expect(chunks.map((chunk) => chunk.index)).toEqual(chunks.map((_, index) => index))
      expect(chunks.some((chunk) => chunk.text.length > maxChars / 2)).toBe(true)
      for (const chunk of chunks) {
        expect(chunk.text.length).toBeLessThanOrEqual(maxChars)
        expect(chunk.end).toBeGreaterThanOrEqual(chunk.start)
        expect(chunk.sentences[0]).toEqual({ offset: 0, start: chunk.start })
        chunk.sentences.slice(1).forEach((sentence, index) => {
          expect(sentence.offset).toBeGreaterThan(chunk.sentences[index]!.offset)
          expect(sentence.start).toBeGreaterThanOrEqual(chunk.sentences[index]!.start)
          expect(chunk.text[sentence.offset - 1]).toBe(' ')
        })
      }
      for (const [previous, next] of chunks.slice(1).map((chunk, index) => [chunks[index]!, chunk] as const)) {
        expect(next.start).toBeGreaterThanOrEqual(previous.start)
        expect(next.end).toBeGreaterThanOrEqual(previous.end)
      }
      // Each cue starts within maxSpanSeconds of every chunk holding its first word.
      const firstWords: { word: number; start: number }[] = []
      for (const segment of segments) {
        const word = firstWords.length
          ? firstWords.at(-1)!.word + words(segments[firstWords.length - 1]!.text).length
          : 0
        firstWords.push({ word, start: segment.start })
      }
      runs.forEach((run, index) => {
        for (const cue of firstWords.filter((first) => first.word >= run.from && first.word < run.to)) {
          expect(cue.start - chunks[index]!.start).toBeLessThanOrEqual(maxSpanSeconds)
        }
      })
    })
  }

  it('starts chunks of unpunctuated rolling auto-captions only where the speaker paused, rarely after a comma, over 100 generated talks', () => {
    const CLAUSES =
      'the dough rests|we fold it over|then the crust turns dark|when the starter is bubbly|you heat the oven|it doubles in size|the loaf goes in the basket|after an hour we shape it'.split(
        '|',
      )
    const inside: string[] = []
    let midSentence = 0
    let chunkCount = 0
    for (let seed = 0; seed < 100; seed++) {
      const random = seededRandom(seed)
      const clause = () => CLAUSES[Math.floor(random() * CLAUSES.length)]!
      // Sentences of one to three clauses, joined by commas: pauses after a comma are as long as some between sentences.
      const sentences = Array.from({ length: 30 }, () => {
        const text = Array.from({ length: 1 + Math.floor(random() * 3) }, clause).join(', ')
        return `${text[0]!.toUpperCase()}${text.slice(1)}.`
      })
      const words = spokenWords(sentences, seededRandom(1000 + seed))
      const chunks = chunkTranscript(transcriptFromCaptions(rollingCaptions(words, false)))
      for (const chunk of chunks.slice(1)) {
        chunkCount++
        const at = words.findIndex((word) => Math.abs(word.start - chunk.start) < 0.0005)
        expect(at).toBeGreaterThan(0)
        const silence = words[at]!.start - words[at - 1]!.end
        if (silence < 0.15) inside.push(`seed ${seed} @${chunk.start.toFixed(2)}: ${chunk.text.slice(0, 40)}`)
        if (words[at]!.sentence === words[at - 1]!.sentence) midSentence++
      }
    }
    // Without punctuation a pause is the only sign of a sentence end; a chunk must never start where there was none.
    expect(inside).toEqual([])
    // A comma's pause can be as long as the pauses between sentences around it, so now and then a chunk starts
    // after one; with the pauses inside caption lines found, it is under 5 % of chunks (7.6 % when they were missed).
    expect(midSentence / chunkCount).toBeLessThan(0.05)
  })

  /**
   * 100 generated talks of 30 sentences, each two clauses joined by a comma (`first`, then
   * `second`), spoken and shown as unpunctuated rolling captions, and the chunks after the first
   * of each, with the spoken words they start at.
   */
  function twoClauseTalks(first: string[], second: string[], wordSeed: number) {
    const found: { seed: number; words: ReturnType<typeof spokenWords>; chunk: Chunk }[] = []
    for (let seed = 0; seed < 100; seed++) {
      const random = seededRandom(seed)
      const pick = (list: string[]) => list[Math.floor(random() * list.length)]!
      const sentences = Array.from({ length: 30 }, () => {
        const text = `${pick(first)}, ${pick(second)}`
        return `${text[0]!.toUpperCase()}${text.slice(1)}.`
      })
      const words = spokenWords(sentences, seededRandom(wordSeed + seed))
      for (const chunk of chunkTranscript(transcriptFromCaptions(rollingCaptions(words, false))).slice(1))
        found.push({ seed, words, chunk })
    }
    return found
  }
  const describeChunk = ({ seed, chunk }: { seed: number; chunk: Chunk }) =>
    `seed ${seed} @${chunk.start.toFixed(2)}: ${chunk.text.slice(0, 40)}`

  it('never starts a chunk of unpunctuated captions at a word that continues a sentence ("which…"), over 100 generated talks', () => {
    // Every sentence goes on after a comma with a relative clause: its pause is as long as a full stop's.
    const chunks = twoClauseTalks(
      'the dough rests|we fold it over|the crust turns dark|you heat the oven|the loaf goes in the basket'.split('|'),
      'which takes an hour|which keeps the crumb soft|whose crust cracks|which slows the yeast'.split('|'),
      2000,
    )
    expect(chunks.length).toBeGreaterThan(500)
    expect(chunks.filter(({ chunk }) => /^(which|whose)\b/.test(chunk.text)).map(describeChunk)).toEqual([])
  })

  it('ends a chunk of unpunctuated captions after a short clause leading on to its sentence ("when…, …") only when nothing else fits, over 100 generated talks', () => {
    // Every sentence opens with a leading clause and a comma: its pause is as long as a full stop's.
    const chunks = twoClauseTalks(
      'when the starter is bubbly|if the loaf is flat|once it has doubled|to make a starter|because the oven is hot'.split(
        '|',
      ),
      'we fold the dough over|it is ready to bake|the crumb stays soft|mix flour and water|you bake it longer'.split(
        '|',
      ),
      3000,
    )
    const cutAfterLeading = chunks.filter(({ words, chunk }) => {
      const at = words.findIndex((word) => Math.abs(word.start - chunk.start) < 0.0005)
      return at > 0 && words[at]!.sentence === words[at - 1]!.sentence
    })
    expect(chunks.length).toBeGreaterThan(500)
    // A cut there is left only where no other pause fits the chunk's span: 4 of 672 chunks (19 of 666 without the rule).
    expect(cutAfterLeading.length / chunks.length).toBeLessThan(0.01)
  })
})
