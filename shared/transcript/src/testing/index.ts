// What tests and benchmarks that make up transcripts share (`@ytrag/transcript/testing`).

/**
 * A small seeded PRNG (mulberry32): numbers in [0, 1), the same sequence for the same seed, so a
 * made-up transcript that fails a test can be made again, and a benchmark's fixtures are the
 * same on every run.
 *
 * @example
 * ```ts
 * const random = seededRandom(42)
 * random() // 0.6011037519201636, on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = state
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

/** A word as spoken: when it starts and ends, and which sentence of the talk it is in. */
export type SpokenWord = { text: string; start: number; end: number; sentence: number }

/**
 * Every word of a talk with when it is said, by a simple model of speech: a word takes time by
 * its length, a comma is followed by a short pause (0.2 to 0.5 s), a sentence by a breath (0.25
 * to 0.75 s) or now and then a longer pause (1 to 2 s), and each talk has its own pace. Clause
 * and sentence pauses overlap on purpose, as they do in speech.
 *
 * @example
 * ```ts
 * spokenWords(['It had two wheels.', 'No pedals!'], seededRandom(1))
 * // [{ text: 'It', start: 1.23…, end: 1.41…, sentence: 0 }, …]
 * ```
 */
export function spokenWords(sentences: string[], random: () => number): SpokenWord[] {
  const pace = 0.85 + random() * 0.3
  const words: SpokenWord[] = []
  let time = 0.4 + random()
  sentences.forEach((sentence, index) => {
    for (const text of sentence.split(' ')) {
      const duration = (0.1 + 0.05 * text.replace(/\W/g, '').length) * pace * (0.8 + random() * 0.4)
      words.push({ text, start: time, end: time + duration, sentence: index })
      time += duration + (text.endsWith(',') ? 0.2 + random() * 0.3 : random() * 0.05)
    }
    // Between sentences a breath, now and then a longer pause.
    time += random() < 0.15 ? 1 + random() : 0.25 + random() * 0.5
  })
  return words
}

/** A WebVTT timestamp, `00:01:02.345`. */
export const clock = (seconds: number) => {
  const millis = Math.round(seconds * 1000)
  const pad = (value: number, size = 2) => String(value).padStart(size, '0')
  return `${pad(Math.floor(millis / 3_600_000))}:${pad(Math.floor(millis / 60_000) % 60)}:${pad(Math.floor(millis / 1000) % 60)}.${pad(millis % 1000, 3)}`
}

/**
 * Spoken words laid out as YouTube's rolling auto-captions: lines of up to 32 characters that
 * ignore sentences, each word after a line's first with its inline time, each line shown again
 * above the next, a 10 ms transition cue between them. Punctuated as newer auto-captions are, or
 * (`punctuated` false) lower-cased without punctuation as older ones.
 */
export function rollingCaptions(words: SpokenWord[], punctuated: boolean): string {
  const spoken = punctuated
    ? words
    : words.map((word) => ({ ...word, text: word.text.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, '') }))
  const lines: SpokenWord[][] = []
  for (const word of spoken) {
    const line = lines.at(-1)
    if (line && line.reduce((sum, w) => sum + w.text.length + 1, 0) + word.text.length <= 32) line.push(word)
    else lines.push([word])
  }
  const plain = (line: SpokenWord[]) => line.map((word) => word.text).join(' ')
  const timed = (line: SpokenWord[]) =>
    line.map((word, index) => (index === 0 ? word.text : `<${clock(word.start)}><c> ${word.text}</c>`)).join('')
  const blocks: string[] = []
  lines.forEach((line, index) => {
    const start = line[0]!.start
    const next = lines[index + 1]
    const end = next ? next[0]!.start - 0.01 : line.at(-1)!.end + 0.5
    const previous = lines[index - 1]
    blocks.push(
      `${clock(start)} --> ${clock(end)} align:start position:0%\n${previous ? plain(previous) : ' '}\n${timed(line)}`,
    )
    if (next) blocks.push(`${clock(end)} --> ${clock(end + 0.01)} align:start position:0%\n${plain(line)}\n `)
  })
  return `WEBVTT\nKind: captions\nLanguage: en\n\n${blocks.join('\n\n')}\n`
}
