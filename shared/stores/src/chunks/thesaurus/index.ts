// Words related to a word by Princeton WordNet: what a query's word can stand for when the
// index has never seen it ("bikes" → "bicycle", "designed" → "architect", "tall" → "height").
// The relations come precomputed (@ytrag/wordnet's related.txt, 2.6 MB, built from WordNet 3.1 by
// scripts/wordnet/build-related.ts): one sorted line a lemma, searched in place, read once a
// query first needs it, so a process that never meets an unknown word never reads it.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

/** WordNet's parts of speech, as related.txt marks them: noun, verb, adjective, adverb. */
type PartOfSpeech = 'n' | 'v' | 'a' | 'r'
const PARTS: readonly PartOfSpeech[] = ['n', 'v', 'a', 'r']

/**
 * WordNet's detachment rules (morphy): the endings an inflected form may have and what its
 * lemma ends in instead. Tried in order; a candidate counts only when WordNet has the lemma.
 */
const DETACHMENTS: Record<PartOfSpeech, readonly [string, string][]> = {
  n: [
    ['s', ''],
    ['ses', 's'],
    ['xes', 'x'],
    ['zes', 'z'],
    ['ches', 'ch'],
    ['shes', 'sh'],
    ['men', 'man'],
    ['ies', 'y'],
  ],
  v: [
    ['s', ''],
    ['ies', 'y'],
    ['es', 'e'],
    ['es', ''],
    ['ed', 'e'],
    ['ed', ''],
    ['ing', 'e'],
    ['ing', ''],
  ],
  a: [
    ['er', ''],
    ['est', ''],
    ['er', 'e'],
    ['est', 'e'],
  ],
  r: [],
}

let table: Buffer | undefined
/** related.txt, whole: `lemma<TAB>n:word word…<TAB>v:…`, sorted by lemma. */
const related = (): Buffer => (table ??= readFileSync(createRequire(import.meta.url).resolve('@ytrag/wordnet')))

const NEWLINE = 0x0a

/** The related words of `lemma` by part of speech, from its line found by binary search; none when WordNet lacks it. */
function entry(lemma: string): Map<PartOfSpeech, string[]> {
  const buffer = related()
  const key = `${lemma}\t`
  let low = 0
  let high = buffer.length
  while (low < high) {
    const middle = (low + high) >>> 1
    const start = buffer.lastIndexOf(NEWLINE, middle - 1) + 1
    const newline = buffer.indexOf(NEWLINE, start)
    const end = newline === -1 ? buffer.length : newline
    const line = buffer.toString('latin1', start, end)
    if (line.startsWith(key)) {
      const parts = new Map<PartOfSpeech, string[]>()
      for (const field of line.slice(key.length).split('\t'))
        parts.set(field[0] as PartOfSpeech, field.length > 2 ? field.slice(2).split(' ') : [])
      return parts
    }
    if (line < key) low = end + 1
    else high = start
  }
  return new Map()
}

/**
 * The lemmas a folded word may be an inflection of, by part of speech: the word itself, the
 * other forms given (an irregular word's, from the text analysis: "built" → "build"), and what
 * WordNet's detachment rules make of it, each kept only when WordNet has it.
 *
 * @example
 * lemmas('bikes') // [['bike', 'n'], ['bike', 'v']]
 */
export function lemmas(word: string, forms: readonly string[] = []): [lemma: string, part: PartOfSpeech][] {
  const found: [string, PartOfSpeech][] = []
  for (const part of PARTS) {
    const candidates = [word, ...forms]
    for (const [ending, replacement] of DETACHMENTS[part])
      if (word.endsWith(ending) && word.length > ending.length)
        candidates.push(word.slice(0, -ending.length) + replacement)
    for (const lemma of new Set(candidates)) if (entry(lemma).has(part)) found.push([lemma, part])
  }
  return found
}

/**
 * An adjective's regular comparative and superlative (WordNet's detachment rules run
 * backwards), which the Porter stemmer leaves as they are ("tallest" is not "tall"); an
 * irregular one's ("big" → "bigger") come with the word's forms.
 */
function gradedForms(adjective: string): string[] {
  if (adjective.endsWith('e')) return [`${adjective}r`, `${adjective}st`]
  if (/[^aeiou]y$/.test(adjective)) return [`${adjective.slice(0, -1)}ier`, `${adjective.slice(0, -1)}iest`]
  return [`${adjective}er`, `${adjective}est`]
}

/**
 * Words WordNet relates to `word`, nearest first: for each lemma it may be a form of, an
 * adjective's graded forms, then the words of its three most frequent senses (synonyms), the
 * words derived from it ("design" → "designer") and their synonyms ("architect"), and the
 * attribute an adjective describes ("tall" → "height"). Folded single words; never the word,
 * its forms or its lemmas.
 *
 * @example
 * relatedWords('bikes') // ['motorcycle', 'bicycle', 'wheel', 'cycle', …]
 * relatedWords('built', { forms: ['build', 'built'] }) // build's: 'construct', 'make', …
 */
export function relatedWords(word: string, { forms = [] }: { forms?: readonly string[] } = {}): string[] {
  const found = lemmas(word, forms)
  const own = new Set([word, ...forms, ...found.map(([lemma]) => lemma)])
  const words = new Set<string>()
  for (const [lemma, part] of found) {
    if (part === 'a') for (const form of gradedForms(lemma)) words.add(form)
    for (const other of entry(lemma).get(part) ?? []) words.add(other)
  }
  return [...words].filter((candidate) => !own.has(candidate))
}
