// The benchmark's talks, as captions: each talk's sentences (talks/*.txt) are given times by a
// seeded model of speech (words take time by their length, pauses after commas and longer ones
// between sentences, each talk at its own pace), then laid out as a creator's caption file or
// as YouTube's rolling auto-captions (inline word times, 10 ms transition cues; punctuated as
// newer auto-captions are, or not at all as older ones), and read back by the project's parser.
import { readdirSync, readFileSync } from 'node:fs'
import type { TimedText } from '@ytrag/domain'
import { transcriptFromCaptions } from '@ytrag/transcript'
import { clock, rollingCaptions, seededRandom, spokenWords, type SpokenWord } from '@ytrag/transcript/testing'

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

const seedOf = (text: string) =>
  [...text].reduce((hash, char) => Math.imul(hash ^ char.charCodeAt(0), 0x01000193), 0x811c9dc5)

/** A creator's captions: up to two lines of 42 characters, a cue closed at a sentence end once it holds 30 characters. */
function creatorCaptions(words: SpokenWord[]): string {
  const cues: SpokenWord[][] = []
  let open: SpokenWord[] = []
  const length = (cue: SpokenWord[]) => cue.reduce((sum, word) => sum + word.text.length + 1, -1)
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
      // `seed` 0 gives the benchmark's own timings, another seed other ones.
      const words = spokenWords(texts, seededRandom(seedOf(id) + seed))
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
