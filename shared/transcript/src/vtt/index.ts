import type { TimedText } from '@ytrag/domain'

/**
 * A cue with its text kept line by line, as the viewer saw it on screen. `wordStarts[i]`, when
 * line i carries inline timestamps (YouTube's auto-captions: `so<00:00:00.320><c> today</c>`),
 * holds when each of its words (split on spaces) is said.
 */
export type CueLines = { start: number; end: number; lines: string[]; wordStarts?: (number[] | undefined)[] }

/** The text is not a WebVTT file at all; single bad cues are skipped instead. */
export class VttError extends Error {
  override name = 'VttError'
}

const SIGNATURE = /^WEBVTT(?:[ \t]|$)/
const NON_CUE_BLOCK = /^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/
const TIMING = /^\s*(\S+?)\s*-->\s*(\S+)/
const TIMESTAMP = /^(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})$/
const TAG = /<[^>]*>/g
/** An inline timestamp tag, `<00:00:01.234>`: the words after it are said from then on. */
const INLINE_TIMESTAMP = /<((?:\d+:)?\d{2}:\d{2}[.,]\d{3})>/
const ENTITY = /&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|([a-zA-Z]+));/g
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  // Direction marks are invisible; keeping them would only stop words from matching.
  lrm: '',
  rlm: '',
}

/**
 * Parses WebVTT into cues with their text lines cleaned (tags stripped, entities decoded,
 * whitespace collapsed); lines left empty are dropped, and so are cues left without lines.
 *
 * @example
 * ```ts
 * parseVttLines('WEBVTT\n\n00:01.000 --> 00:02.500\n<v Ann>Hello\nthere &amp; you')
 * // [{ start: 1, end: 2.5, lines: ['Hello', 'there & you'] }]
 * ```
 */
export function parseVttLines(text: string): CueLines[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)
  const signature = lines[0] ?? ''
  if (!SIGNATURE.test(signature)) {
    const found = signature.length > 40 ? `${signature.slice(0, 40)}…` : signature
    throw new VttError(`Not a WebVTT file: the first line must be "WEBVTT", found ${JSON.stringify(found)}`)
  }
  const cues: CueLines[] = []
  for (const block of blocks(lines.slice(headerLength(lines)))) {
    if (NON_CUE_BLOCK.test(block[0] ?? '')) continue
    cues.push(...cuesOfBlock(block))
  }
  return cues
}

/**
 * Parses WebVTT into cues, a cue's lines joined with a space.
 *
 * @example
 * ```ts
 * parseVtt('WEBVTT\nKind: captions\n\n00:00:01.000 --> 00:00:02.500 align:start\n<c>Hello</c>\nthere')
 * // [{ start: 1, end: 2.5, text: 'Hello there' }]
 * ```
 */
export function parseVtt(text: string): TimedText[] {
  return parseVttLines(text).map(({ start, end, lines }) => ({ start, end, text: lines.join(' ') }))
}

/** The header runs to the first blank line; a timing line also ends it, so a missing blank line costs no cue. */
function headerLength(lines: string[]): number {
  let index = 1
  while (index < lines.length && lines[index]!.trim() !== '' && !lines[index]!.includes('-->')) index++
  return index
}

/** Blocks are separated by empty lines only: YouTube puts lines of a single space inside its cues. */
function blocks(lines: string[]): string[][] {
  const found: string[][] = []
  let block: string[] = []
  for (const line of lines) {
    if (line !== '') {
      block.push(line)
      continue
    }
    if (block.length > 0) found.push(block)
    block = []
  }
  if (block.length > 0) found.push(block)
  return found
}

/**
 * Cue text may not contain "-->", so every such line starts a cue; lines before the first one are
 * the cue identifier. Text under an unreadable timing line is skipped along with it.
 */
function cuesOfBlock(block: string[]): CueLines[] {
  const cues: CueLines[] = []
  let cue: CueLines | undefined
  for (const line of block) {
    if (line.includes('-->')) {
      cue = timingOf(line)
      if (cue) cues.push(cue)
      continue
    }
    const cleaned = cleanLine(line)
    if (!cue || cleaned === '') continue
    cue.lines.push(cleaned)
    const starts = INLINE_TIMESTAMP.test(line) ? wordStartsOf(line, cue.start, cleaned) : undefined
    if (starts) {
      cue.wordStarts ??= []
      cue.wordStarts[cue.lines.length - 1] = starts
    }
  }
  return cues.filter((found) => found.lines.length > 0)
}

/**
 * When each word of a line with inline timestamps is said: words before the first timestamp at
 * the cue's start, the others at the timestamp before them. Undefined when the timestamps do not
 * line up with the cleaned words (a tag inside a word) or go backwards: then only the cue's times count.
 */
function wordStartsOf(line: string, cueStart: number, cleaned: string): number[] | undefined {
  const parts = line.split(INLINE_TIMESTAMP)
  const starts: number[] = []
  let time = cueStart
  for (let index = 0; index < parts.length; index++) {
    if (index % 2 === 1) {
      const at = secondsOf(parts[index]!.replace(',', '.'))
      if (at === undefined || at < time) return undefined
      time = at
      continue
    }
    const words = cleanLine(parts[index]!)
    if (words !== '') for (const _word of words.split(' ')) starts.push(time)
  }
  return starts.length === cleaned.split(' ').length ? starts : undefined
}

function timingOf(line: string): CueLines | undefined {
  const match = TIMING.exec(line)
  if (!match) return undefined
  const start = secondsOf(match[1]!)
  const end = secondsOf(match[2]!)
  if (start === undefined || end === undefined || end < start) return undefined
  return { start, end, lines: [] }
}

function secondsOf(timestamp: string): number | undefined {
  const match = TIMESTAMP.exec(timestamp)
  if (!match) return undefined
  const [, hours = '0', minutes = '0', seconds = '0', millis = '0'] = match
  if (Number(minutes) > 59 || Number(seconds) > 59) return undefined
  // Whole milliseconds divided once: adding seconds and fractions would give 31.576999999999998 for 00:31.577.
  const millisTotal = ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 + Number(millis)
  return millisTotal / 1000
}

/** Tags go before entities are decoded, so an escaped "&lt;i&gt;" survives as the text "<i>". */
function cleanLine(line: string): string {
  return line.replace(TAG, '').replace(ENTITY, decodeEntity).replace(/\s+/g, ' ').trim()
}

function decodeEntity(entity: string, decimal?: string, hex?: string, name?: string): string {
  if (name !== undefined) return NAMED_ENTITIES[name] ?? entity
  const codePoint = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex!, 16)
  return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : entity
}
