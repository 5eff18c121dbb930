// The benchmark's talks, as captions: each talk's sentences (talks/*.txt) are given times by a
// seeded model of speech (words take time by their length, pauses after commas and longer ones
// between sentences, each talk at its own pace), then laid out as a creator's caption file or
// as YouTube's rolling auto-captions (inline word times, 10 ms transition cues; punctuated as
// newer auto-captions are, or not at all as older ones), and read back by the project's parser.
import { readdirSync, readFileSync } from 'node:fs'
import type { TimedText } from '@ytrag/domain'
import { transcriptFromCaptions } from '@ytrag/transcript'
import { seededRandom } from '@ytrag/transcript/testing'

type CaptionLayout = 'creator' | 'rolling' | 'rolling-unpunctuated'

interface TimedSentence {
  text: string
  start: number
  end: number
}

export interface Talk {
  id: string
  title: string
  layout: CaptionLayout
  sentences: TimedSentence[]
  vtt: string
  /** The captions as the pipeline reads them. */
  segments: TimedText[]
}

export interface Question {
  talk: string
  question: string
  /** The index of the sentence that answers it, in its talk. */
  answer: number
}

type Word = { text: string; start: number; end: number; sentence: number }

const seedOf = (text: string) =>
  [...text].reduce((hash, char) => Math.imul(hash ^ char.charCodeAt(0), 0x01000193), 0x811c9dc5)

/** Every word of the talk with when it is said; `seed` 0 gives the benchmark's own timings, another seed other ones. */
function speak(id: string, sentences: string[], seed: number): Word[] {
  const random = seededRandom(seedOf(id) + seed)
  const pace = 0.85 + random() * 0.3
  const words: Word[] = []
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

const clock = (seconds: number) => {
  const millis = Math.round(seconds * 1000)
  const pad = (value: number, size = 2) => String(value).padStart(size, '0')
  return `${pad(Math.floor(millis / 3_600_000))}:${pad(Math.floor(millis / 60_000) % 60)}:${pad(Math.floor(millis / 1000) % 60)}.${pad(millis % 1000, 3)}`
}

/** A creator's captions: up to two lines of 42 characters, a cue closed at a sentence end once it holds 30 characters. */
function creatorCaptions(words: Word[]): string {
  const cues: Word[][] = []
  let open: Word[] = []
  const length = (cue: Word[]) => cue.reduce((sum, word) => sum + word.text.length + 1, -1)
  for (const word of words) {
    if (open.length && length([...open, word]) > 84) {
      cues.push(open)
      open = []
    }
    open.push(word)
    if (/[.?!]$/.test(word.text) && length(open) >= 30) {
      cues.push(open)
      open = []
    }
  }
  if (open.length) cues.push(open)
  const blocks = cues.map((cue, index) => {
    const next = cues[index + 1]
    const end = Math.min(cue.at(-1)!.end + 0.4, next ? next[0]!.start : Number.POSITIVE_INFINITY)
    const text = cue.map((word) => word.text).join(' ')
    const cut = text.length > 42 ? text.lastIndexOf(' ', Math.ceil(text.length / 2)) : -1
    const lines = cut > 0 ? [text.slice(0, cut), text.slice(cut + 1)] : [text]
    return `${index + 1}\n${clock(cue[0]!.start)} --> ${clock(end)}\n${lines.join('\n')}`
  })
  return `WEBVTT\n\n${blocks.join('\n\n')}\n`
}

/** YouTube's rolling auto-captions: lines of up to 32 characters that ignore sentences, each shown again above the next. */
function rollingCaptions(words: Word[], punctuated: boolean): string {
  const spoken = punctuated
    ? words
    : words.map((word) => ({ ...word, text: word.text.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, '') }))
  const lines: Word[][] = []
  for (const word of spoken) {
    const line = lines.at(-1)
    if (line && line.reduce((sum, w) => sum + w.text.length + 1, 0) + word.text.length <= 32) line.push(word)
    else lines.push([word])
  }
  const plain = (line: Word[]) => line.map((word) => word.text).join(' ')
  const timed = (line: Word[]) =>
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

const TALKS_DIR = new URL('./talks/', import.meta.url)

/**
 * The talks in `talks/`, timed and captioned. `seed` 0 (the default) gives the timings the
 * benchmark's figures are for; other seeds time the same words otherwise (where the pauses fall),
 * to check that what holds for one timing holds for others.
 */
export function loadTalks({ seed = 0 }: { seed?: number | undefined } = {}): Talk[] {
  return readdirSync(TALKS_DIR)
    .filter((file) => file.endsWith('.txt'))
    .sort()
    .map((file) => {
      const id = file.replace(/\.txt$/, '')
      const lines = readFileSync(new URL(file, TALKS_DIR), 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
      const title = lines.find((line) => line.startsWith('# '))?.slice(2) ?? id
      const layout = (lines.find((line) => line.startsWith('# captions: '))?.slice('# captions: '.length) ??
        'creator') as CaptionLayout
      if (!['creator', 'rolling', 'rolling-unpunctuated'].includes(layout))
        throw new Error(`${file}: unknown caption layout ${layout}`)
      const texts = lines.filter((line) => !line.startsWith('#'))
      const words = speak(id, texts, seed)
      const sentences = texts.map((text, index) => {
        const own = words.filter((word) => word.sentence === index)
        return { text, start: own[0]!.start, end: own.at(-1)!.end }
      })
      const vtt = layout === 'creator' ? creatorCaptions(words) : rollingCaptions(words, layout === 'rolling')
      return { id, title, layout, sentences, vtt, segments: transcriptFromCaptions(vtt) }
    })
}

/** Letters and digits only, lower-cased: how a sentence is found in a chunk whatever its punctuation. */
export const normalized = (text: string) => (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(' ')

/** The questions of `questions.txt`, each with the index of its answering sentence. */
export function loadQuestions(talks: Talk[]): Question[] {
  const lines = readFileSync(new URL('./questions.txt', import.meta.url), 'utf8')
    .split('\n')
    .map((line) => line.trim())
  return lines
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [talkId, question, phrase] = line.split('|').map((part) => part.trim())
      const talk = talks.find((candidate) => candidate.id === talkId)
      if (!talk || !question || !phrase) throw new Error(`questions.txt: cannot read "${line}"`)
      const matching = talk.sentences.flatMap((sentence, index) =>
        normalized(sentence.text).includes(normalized(phrase)) ? [index] : [],
      )
      if (matching.length !== 1)
        throw new Error(`questions.txt: "${phrase}" is in ${matching.length} sentences of ${talkId}, not one`)
      return { talk: talkId!, question, answer: matching[0]! }
    })
}
