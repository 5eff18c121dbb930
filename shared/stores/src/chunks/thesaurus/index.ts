// Words related to a word by Princeton WordNet: what a query's word can stand for when the
// index has never seen it ("bikes" → "bicycle", "designed" → "architect", "tall" → "height").
// The relations come precomputed (@ytrag/wordnet's related.txt, 2.9 MB, built from WordNet 3.1 by
// scripts/wordnet/build-related.ts): one sorted line a lemma, searched in place, read once a
// query first needs it (a word the index lacks, or one ending as a comparative or superlative
// does), so a process that never searches never reads it.
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
function gradedForms(adjective: string): [comparative: string, superlative: string] {
  if (adjective.endsWith('e')) return [`${adjective}r`, `${adjective}st`]
  if (/[^aeiou]y$/.test(adjective)) return [`${adjective.slice(0, -1)}ier`, `${adjective.slice(0, -1)}iest`]
  return [`${adjective}er`, `${adjective}est`]
}

/** The degree of a comparative ("taller", "bigger") or a superlative ("tallest", "biggest"), by its ending. */
export type Degree = 'er' | 'est'
const DEGREES: readonly Degree[] = ['er', 'est']

/**
 * True for an adjective short enough to be graded by its ending: English says "taller" but
 * "more expensive", so a longer one's "-est" form is no word a talk would say.
 */
const takesEndings = (adjective: string): boolean => (adjective.match(/[aeiouy]+/g)?.length ?? 0) <= 2

/**
 * An adjective in a degree: its irregular form of that degree when `forms` (the adjective's
 * forms, as the text analysis gives them) has one ("big" → "biggest"), else the regular one.
 *
 * @example
 * inDegree('large', 'est') // 'largest'
 * inDegree('big', 'est', ['big', 'bigger', 'biggest']) // 'biggest'
 */
export function inDegree(adjective: string, degree: Degree, forms: readonly string[] = []): string {
  const irregular = forms.find((form) => form !== adjective && form.endsWith(degree))
  return irregular ?? gradedForms(adjective)[degree === 'er' ? 0 : 1]
}

/**
 * The adjective a word is the comparative or superlative of, and which: it ends so, WordNet
 * has an adjective it grades ("biggest" of "big", "tallest" of "tall"), and it is no noun or
 * verb of its own ("forest", "interest", "number" are not graded). The degree is part of what a
 * question asks: "when are the tides biggest" is not answered by a passage that says "big".
 *
 * @example
 * gradeOf('biggest', ['big', 'bigger', 'biggest']) // { adjective: 'big', degree: 'est' }
 * gradeOf('forest') // undefined
 */
export function gradeOf(
  word: string,
  forms: readonly string[] = [],
): { adjective: string; degree: Degree } | undefined {
  const degree: Degree | undefined = word.endsWith('est') ? 'est' : word.endsWith('er') ? 'er' : undefined
  if (!degree) return undefined
  const own = entry(word)
  if (own.has('n') || own.has('v')) return undefined
  for (const [lemma, part] of lemmas(word, forms))
    if (part === 'a' && lemma !== word && inDegree(lemma, degree, forms) === word) return { adjective: lemma, degree }
  return undefined
}

/**
 * Words WordNet relates to `word`, nearest first: for each lemma it may be a form of, an
 * adjective's graded forms, then the words of its three most frequent senses (synonyms), the
 * words derived from it ("design" → "designer") and their synonyms ("architect"), and the
 * attribute an adjective describes ("tall" → "height"). A comparative or superlative first
 * gives its adjective's related adjectives in the same degree ("biggest" → "largest"); `formsOf`
 * gives a word's irregular forms for that. Folded single words; never the word, its forms or its
 * lemmas.
 *
 * @example
 * relatedWords('bikes') // ['motorcycle', 'bicycle', 'wheel', 'cycle', …]
 * relatedWords('built', { forms: ['build', 'built'] }) // build's: 'construct', 'make', …
 * relatedWords('biggest', { forms: ['big', 'bigger', 'biggest'] }) // ['largest', …, 'large', 'size', …]
 */
export function relatedWords(
  word: string,
  {
    forms = [],
    formsOf = (other: string): readonly string[] => [other],
  }: { forms?: readonly string[]; formsOf?: (word: string) => readonly string[] } = {},
): string[] {
  const found = lemmas(word, forms)
  const own = new Set([word, ...forms, ...found.map(([lemma]) => lemma)])
  const words = new Set<string>()
  const grade = gradeOf(word, forms)
  if (grade)
    for (const other of entry(grade.adjective).get('a') ?? [])
      if (takesEndings(other) && entry(other).has('a')) words.add(inDegree(other, grade.degree, formsOf(other)))
  for (const [lemma, part] of found) {
    // A lemma that is itself graded ("older", which WordNet lists) has no degrees of its own.
    if (part === 'a' && takesEndings(lemma) && !gradeOf(lemma))
      for (const degree of DEGREES) words.add(inDegree(lemma, degree, formsOf(lemma)))
    for (const other of entry(lemma).get(part) ?? []) words.add(other)
  }
  return [...words].filter((candidate) => !own.has(candidate))
}
