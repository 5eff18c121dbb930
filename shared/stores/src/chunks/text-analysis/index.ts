// The one home of text analysis, shared by both chunk indexes so they find and rank alike: the
// embedded FTS5 index (its MATCH expression, ../query) and the BM25 sparse
// vectors sent to Qdrant (shared/stores/src/sparse).
//
// The document side is what FTS5's `porter unicode61` tokenizer does to a chunk: fold case and
// Latin diacritics, cut on anything but letters and digits, Porter-stem. The query side reads a
// question as a person asked it: the language's stop words are dropped ("what was built" asks
// about "built"), and a word stands for all its forms, regular ones through the stemmer
// ("lives" → "live") and irregular ones through kept tables ("built" ↔ "build", "fell" ↔
// "fall", "bigger" ↔ "big"), so the index never needs to store more than the stemmed words.
import { createRequire } from 'node:module'
import type IrregularNouns from 'wink-lexicon/src/irregular-nouns.js'
import type IrregularVerbs from 'wink-lexicon/src/irregular-verbs.js'
import type Adjectives from 'wink-lexicon/src/wn-adjective-exceptions.js'
import { stemmer } from 'stemmer'
import { LRUCache } from 'lru-cache'
import { gradeOf, lemmas, relatedWords } from '../thesaurus/index.ts'

/**
 * Every language's stop-word lists (the stopword package, 215 KB): required when a query is
 * first read, not when a function starts (most functions never read one). The bundles keep the
 * package out and copy it beside them (scripts/images/bundle.mjs), so it stays out of start-up.
 */
let lists: Record<string, unknown> | undefined
const stopwordLists = (): Record<string, unknown> =>
  (lists ??= createRequire(import.meta.url)('stopword') as Record<string, unknown>)

/** Letters, digits and combining marks, like unicode61's token characters; marks keep non-Latin words whole. */
const WORD = /[\p{L}\p{N}\p{M}]+/gu

/** The combining diacritics of Latin letters (é = e + U+0301 once decomposed), which unicode61 drops by default. */
const DIACRITICS = /[\u0300-\u036f]/g

/** FTS5's porter tokenizer leaves longer tokens as they are. */
const MAX_STEMMED_LENGTH = 64

/**
 * Cuts text into words as unicode61 does, unstemmed: lower-cased, Latin diacritics removed,
 * split on anything but letters and digits.
 *
 * @example
 * words('Naïve café: C++!') // ['naive', 'cafe', 'c']
 */
export function words(text: string): string[] {
  const folded = text.normalize('NFD').replace(DIACRITICS, '').normalize('NFC').toLowerCase()
  return Array.from(folded.matchAll(WORD), ([word]) => word)
}

/**
 * A folded word's index term: its Porter stem, as FTS5's porter tokenizer gives it.
 *
 * @example
 * stem('caching') // 'cach'
 */
export const stem = (word: string): string => (word.length > MAX_STEMMED_LENGTH ? word : stemmer(word))

/**
 * The document side: the terms FTS5's `porter unicode61` stores for `text`, in order, repeats kept.
 *
 * @example
 * tokenize('Caching: the naïve way!') // ['cach', 'the', 'naiv', 'wai']
 */
export const tokenize = (text: string): string[] => words(text).map(stem)

/**
 * Every irregular form to the forms of its word (its lemma first): built → [build, built].
 * Built on the first query, not at import: ~10k entries are a cold start's cost otherwise, in
 * every function that imports the analysis and never searches.
 */
let irregularForms: ReadonlyMap<string, readonly string[]> | undefined
/**
 * wink-lexicon's tables, read when the forms are first built. Their modules are object literals
 * of ~10k entries that cost a start ~15 ms of CPU to evaluate when imported at the top. A literal
 * `require('…')` is one the bundler resolves: in a function's bundle the tables are bundled and
 * run at this call, not at start-up; unbundled (tests, tsx: no `require` in a module), Node's
 * require reads them.
 */
function lexiconTables(): {
  nouns: typeof IrregularNouns
  verbs: typeof IrregularVerbs
  adjectives: typeof Adjectives
} {
  if (typeof require === 'function')
    return {
      nouns: require('wink-lexicon/src/irregular-nouns.js'),
      verbs: require('wink-lexicon/src/irregular-verbs.js'),
      adjectives: require('wink-lexicon/src/wn-adjective-exceptions.js'),
    }
  const load = createRequire(import.meta.url)
  return {
    nouns: load('wink-lexicon/src/irregular-nouns.js'),
    verbs: load('wink-lexicon/src/irregular-verbs.js'),
    adjectives: load('wink-lexicon/src/wn-adjective-exceptions.js'),
  }
}
const buildIrregularForms = (): ReadonlyMap<string, readonly string[]> => {
  const { nouns: irregularNouns, verbs: irregularVerbs, adjectives: adjectiveExceptions } = lexiconTables()
  const byLemma = new Map<string, Set<string>>()
  const add = (form: string, lemma: string) => {
    const forms = byLemma.get(lemma) ?? byLemma.set(lemma, new Set([lemma])).get(lemma)!
    forms.add(form)
  }
  for (const [form, lemma] of Object.entries(irregularVerbs)) add(form, lemma)
  for (const [plural, singular] of Object.entries(irregularNouns.singular)) add(plural, singular)
  // Comparatives and superlatives the stemmer cannot bring home: "bigger" ↔ "big", "better" ↔ "good".
  for (const [form, adjective] of Object.entries(adjectiveExceptions)) if (form !== adjective) add(form, adjective)
  const byForm = new Map<string, readonly string[]>()
  for (const forms of byLemma.values()) {
    // A form can belong to two words ("found": find, and found as a verb of its own): it takes all their forms.
    for (const form of forms) byForm.set(form, [...new Set([...(byForm.get(form) ?? []), ...forms])])
  }
  return byForm
}

/**
 * The forms a folded word stands for in a query: itself, plus the other forms of an irregular
 * verb or noun. Regular forms need no listing: they share the word's stem.
 *
 * @example
 * wordForms('built') // ['build', 'built']
 * wordForms('lives') // ['lives'] (stem 'live', as 'live' and 'living')
 */
export function wordForms(word: string): string[] {
  irregularForms ??= buildIrregularForms()
  const forms = irregularForms.get(word)
  return forms ? [...forms] : [word]
}

/** ISO 639-1 codes to the stopword package's list names (ISO 639-3, with its variants). */
const STOPWORD_LISTS: Record<string, string> = {
  af: 'afr',
  ar: 'ara',
  bg: 'bul',
  bn: 'ben',
  br: 'bre',
  ca: 'cat',
  cs: 'ces',
  da: 'dan',
  de: 'deu',
  el: 'ell',
  en: 'eng',
  eo: 'epo',
  es: 'spa',
  et: 'est',
  eu: 'eus',
  fa: 'fas',
  fi: 'fin',
  fr: 'fra',
  ga: 'gle',
  gl: 'glg',
  gu: 'guj',
  ha: 'hau',
  he: 'heb',
  hi: 'hin',
  hr: 'hrv',
  hu: 'hun',
  hy: 'hye',
  id: 'ind',
  it: 'ita',
  ja: 'jpn',
  ko: 'kor',
  ku: 'kur',
  la: 'lat',
  lt: 'lit',
  lv: 'lav',
  mr: 'mar',
  ms: 'msa',
  my: 'mya',
  nb: 'nob',
  nl: 'nld',
  no: 'nob',
  pa: 'panGu',
  pl: 'pol',
  pt: 'por',
  ro: 'ron',
  ru: 'rus',
  sk: 'slk',
  sl: 'slv',
  so: 'som',
  st: 'sot',
  sv: 'swe',
  sw: 'swa',
  th: 'tha',
  tl: 'tgl',
  tr: 'tur',
  uk: 'ukr',
  ur: 'urd',
  vi: 'vie',
  yo: 'yor',
  zh: 'zho',
  zu: 'zul',
}

/**
 * Words a question is made of in English that the kept list lacks: auxiliaries and question
 * words ("how does", "why", "when"), and the pieces a contraction leaves once cut at its
 * apostrophe ("what's" → "what" "s", "don't" → "don" "t").
 */
const EXTRA_STOP_WORDS: Record<string, string[]> = {
  eng: [
    'so',
    'does',
    'doing',
    'done',
    'when',
    'why',
    'whom',
    'whose',
    'its',
    'itself',
    'herself',
    'yourself',
    'ourselves',
    'themselves',
    's',
    't',
    'd',
    'll',
    're',
    've',
    'm',
  ],
}

/**
 * The stopword package's list name for a language: an ISO 639-1 code (`en`), a tag (`en-US`,
 * `pt-BR`) or the list's own name (`eng`). Undefined for a language it has no list for.
 *
 * @example
 * stopWordList('pt-BR') // 'porBr'
 */
function stopWordList(language: string): string | undefined {
  if (Array.isArray(stopwordLists()[language])) return language
  const [primary = '', region] = language.toLowerCase().split(/[-_]/)
  if (primary === 'pt' && region === 'br') return 'porBr'
  const list = STOPWORD_LISTS[primary]
  return list ?? (Array.isArray(stopwordLists()[primary]) ? primary : undefined)
}

const stopWordCache = new Map<string, ReadonlySet<string>>()

/**
 * The stop words of the languages given, folded like `words()` folds text, as one set.
 * Languages without a list add nothing.
 *
 * @example
 * stopWords(['en']).has('what') // true
 */
export function stopWords(languages: readonly string[]): ReadonlySet<string> {
  const key = languages.join(',')
  const cached = stopWordCache.get(key)
  if (cached) return cached
  const set = new Set<string>()
  for (const language of languages) {
    const list = stopWordList(language)
    if (!list) continue
    for (const entry of [...((stopwordLists()[list] as string[] | undefined) ?? []), ...(EXTRA_STOP_WORDS[list] ?? [])])
      for (const word of words(entry)) set.add(word)
  }
  stopWordCache.set(key, set)
  return set
}

/** True when the language has a stop-word list here (see `stopWords`). */
export const hasStopWords = (language: string): boolean => stopWordList(language) !== undefined

/** One word of a query, with the forms it stands for. */
export interface QueryTerm {
  /** The word as the question has it, folded. */
  word: string
  /** The word and its other forms, folded and unstemmed (for FTS5, whose tokenizer stems a quoted phrase). */
  forms: string[]
  /** The index terms of those forms, distinct: what a document must hold to match the word. */
  stems: string[]
}

/**
 * How a query is read.
 *
 * @example
 * analyzeQuery('was ist das', { languages: ['de', 'en'] } satisfies QueryAnalysisOptions)
 */
export interface QueryAnalysisOptions {
  /** Whose stop words are dropped: ISO 639-1 codes or tags. Default `['en']`. */
  languages?: readonly string[]
  /** The most terms kept, so a pasted page cannot make a huge query. Default 32. */
  maxTerms?: number
}

/**
 * Reads a question: its distinct words in order, each with its forms, stop words left out.
 * A question made only of stop words ("what is it") keeps them all, so it still finds the
 * passages that say them, ranked by BM25, rather than nothing. A word whose index terms an
 * earlier word already asks for ("cached" after "cache", "building" after "built") counts once.
 *
 * @example
 * analyzeQuery('What was built from the fallen blocks?').map((term) => term.word) // ['built', 'fallen', 'blocks']
 * analyzeQuery('what is it').map((term) => term.word) // ['what', 'is', 'it']
 */
export function analyzeQuery(
  text: string,
  { languages = ['en'], maxTerms = 32 }: QueryAnalysisOptions = {},
): QueryTerm[] {
  const all = words(text)
  const stop = stopWords(languages)
  const content = all.filter((word) => !stop.has(word))
  const terms: QueryTerm[] = []
  const seen = new Set<string>()
  for (const word of content.length > 0 ? content : all) {
    if (terms.length >= maxTerms) break
    const forms = wordForms(word)
    const stems = [...new Set(forms.map(stem))]
    if (stems.every((term) => seen.has(term))) continue
    for (const term of stems) seen.add(term)
    terms.push({ word, forms, stems })
  }
  return terms
}

/**
 * Which of the words an index holds: each is folded and unstemmed; it is held when some chunk
 * has its index term (its stem). Each chunk index answers from its own postings.
 */
export type KnownWords = (words: readonly string[]) => ReadonlySet<string>

export interface ExpansionOptions {
  /**
   * The most related words a word the index lacks is widened to, nearest first. FTS5 adds up
   * the score of every form a chunk holds, so each one more weighs the word more (and "wheel"
   * and "pedal" for "bikes" favour any passage about bicycle parts). Default 3.
   */
  maxExpansions?: number
  /** The shortest part a word is split into when it is two words the index has run together. Default 3. */
  minPartLength?: number
}

/**
 * The splits of a word into two English words (WordNet has a lemma for each) of at least
 * `minLength` letters: "beeswax" → bees|wax, not bee|swax nor beesw|ax.
 */
function splits(word: string, minLength: number): [string, string][] {
  const found: [string, string][] = []
  for (let at = minLength; at <= word.length - minLength; at++) {
    const [left, right] = [word.slice(0, at), word.slice(at)]
    if (lemmas(left).length > 0 && lemmas(right).length > 0) found.push([left, right])
  }
  return found
}

/** What a word the index lacks may be widened to, before the index is asked which it holds. */
interface Candidates {
  related: string[]
  parts: [string, string][]
}

/**
 * Candidates by word: WordNet does not change, so a word met again costs a lookup. A new word
 * costs ~0.2–0.3 ms of binary searches, ten times the index's answer to whether it holds the
 * word, so only words the index lacks are looked up. Made by the first query that asks, not
 * when the module loads (lru-cache allocates its tables for `max` entries up front, which every
 * start would pay for).
 */
let candidateCache: LRUCache<string, Candidates> | undefined

function candidatesOf(term: QueryTerm, minPartLength: number): Candidates {
  const key = `${term.word}/${minPartLength}`
  candidateCache ??= new LRUCache<string, Candidates>({ max: 10_000 })
  let found = candidateCache.get(key)
  if (!found) {
    // Single words only: a hyphenated one ("mid-sixties") would be a phrase.
    const related = relatedWords(term.word, { forms: term.forms, formsOf: wordForms }).filter(
      (word) => words(word).join(' ') === word,
    )
    found = { related, parts: splits(term.word, minPartLength) }
    candidateCache.set(key, found)
  }
  return found
}

/**
 * The forms that make a word held: all of them, but a comparative's or superlative's own only
 * ("biggest" is not held by a chunk that says "big", so it is widened to "largest").
 */
const heldForms = (term: QueryTerm): readonly string[] => (gradeOf(term.word, term.forms) ? [term.word] : term.forms)

/**
 * Widens each query word that no chunk of the index has (vocabulary mismatch: the question says
 * "bikes", the talk "bicycles") to words that the index has and that mean about the same: words
 * WordNet relates to it (synonyms of its most frequent senses, derived words, an adjective's
 * attribute and graded forms; ../thesaurus) and, for a compound the talk says apart, its two
 * parts ("beeswax" → "bees" "wax"). A comparative or superlative counts as held only in its own
 * degree: "biggest" is widened to "largest" even where a chunk says "big". The new words join
 * the word's own forms, ORed in its slot, so a word the index has is never touched, and a
 * widened word can only add matches where it had none. Two questions to the index: one for the
 * question's words, and only when one is missing, one for every candidate. Terms come back in
 * order; the same objects when the index has every word.
 *
 * @example
 * expandUnknownTerms(analyzeQuery('how many bikes'), (words) => heldBy(index, words))
 * // [{ word: 'bikes', forms: ['bikes', 'bicycle', 'cycle'], … }] when chunks say "bicycles" and "cycle", never "bike"
 */
export function expandUnknownTerms(
  terms: readonly QueryTerm[],
  known: KnownWords,
  { maxExpansions = 3, minPartLength = 3 }: ExpansionOptions = {},
): QueryTerm[] {
  const asked = new Map(terms.map((term) => [term, heldForms(term)]))
  const held = known([...new Set([...asked.values()].flat())])
  const unknown = terms.filter((term) => !asked.get(term)!.some((form) => held.has(form)))
  if (unknown.length === 0) return [...terms]
  const candidates = new Map<QueryTerm, Candidates>()
  for (const term of unknown) candidates.set(term, candidatesOf(term, minPartLength))
  const heldCandidates = known([
    ...new Set([...candidates.values()].flatMap(({ related, parts }) => [...related, ...parts.flat()])),
  ])
  return terms.map((term) => {
    const candidate = candidates.get(term)
    if (!candidate) return term
    const extra = candidate.related.filter((word) => heldCandidates.has(word)).slice(0, maxExpansions)
    for (const [left, right] of candidate.parts)
      if (heldCandidates.has(left) && heldCandidates.has(right)) extra.push(left, right)
    if (extra.length === 0) return term
    const forms = [...new Set([...term.forms, ...extra])]
    return { word: term.word, forms, stems: [...new Set(forms.map(stem))] }
  })
}
