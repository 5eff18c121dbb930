// Free user text never reaches FTS5's query syntax: it is read by the shared query analysis
// (stop words out, word forms in) and each form is quoted, so `AND`, `-`, `(`, `"` and `*` are
// plain text. Quoted phrases still go through the table's tokenizer, so porter stemming and
// case folding apply as usual.
import { analyzeQuery, type QueryAnalysisOptions, type QueryTerm } from '../text-analysis/index.ts'

export interface FtsQueryOptions extends QueryAnalysisOptions {
  /**
   * How many pairs of query words are also asked for as a NEAR group, so a passage that has them
   * close together ranks above one that has them pages apart (BM25 counts the group's hits
   * again). Neighbouring words pair first, then words one apart, and so on: "bees … colony" in
   * "how many bees live in a colony" is a pair too. Default 6; 0 turns proximity off.
   */
  proximityPairs?: number
  /** How many words may stand between the two words of a pair. Default 8. */
  proximityWindow?: number
  /**
   * How many pairs of neighbouring query words are also asked for as a phrase, side by side in
   * the order asked: "covering index" ranks the passage that says it above one where an index
   * merely "covers". Default 3; 0 turns phrases off.
   */
  phrasePairs?: number
}

/** A phrase of one word: doubling a quote keeps the quoting correct if the word cutting ever lets one through. */
export const quote = (word: string) => `"${word.replaceAll('"', '""')}"`

/** The pairs of `count` words, nearest first: (0 1) (1 2) … then (0 2) (1 3) …, at most `limit`. */
function pairsByDistance(count: number, limit: number): [number, number][] {
  const pairs: [number, number][] = []
  for (let distance = 1; distance < count; distance++)
    for (let i = 0; i + distance < count && pairs.length < limit; i++) pairs.push([i, i + distance])
  return pairs
}

/**
 * Turns free text into an FTS5 MATCH expression: each distinct content word (the form it was
 * asked in, or any other form of it), ORed, plus NEAR groups of words near each other in the
 * question and phrases of neighbouring ones. `undefined` when the text has no word (the caller
 * then has nothing to match).
 *
 * @example
 * toFtsQuery('what was built from the fallen blocks')
 * // '("build" OR "built") OR ("fall" OR "fell" OR "fallen") OR "blocks" OR NEAR("built" "fallen", 8) OR NEAR("fallen" "blocks", 8)
 * //  OR NEAR("built" "blocks", 8) OR "built fallen" OR "fallen blocks"'
 */
export function toFtsQuery(text: string, options: FtsQueryOptions = {}): string | undefined {
  return ftsQueryOf(analyzeQuery(text, options), options)
}

/**
 * The MATCH expression of a question already read (`analyzeQuery`, perhaps widened by
 * `expandUnknownTerms`): each term's forms ORed in its slot, then NEAR groups and phrases of the
 * words as asked.
 */
export function ftsQueryOf(
  terms: readonly QueryTerm[],
  { proximityPairs = 6, proximityWindow = 8, phrasePairs = 3 }: FtsQueryOptions = {},
): string | undefined {
  if (terms.length === 0) return undefined
  const alternatives = terms.map(({ forms }) =>
    forms.length === 1 ? quote(forms[0]!) : `(${forms.map(quote).join(' OR ')})`,
  )
  const near = pairsByDistance(terms.length, proximityPairs).map(
    ([a, b]) => `NEAR(${quote(terms[a]!.word)} ${quote(terms[b]!.word)}, ${proximityWindow})`,
  )
  // A quoted string of two words is a phrase: the tokenizer cuts and stems it, in order.
  const phrases = pairsByDistance(terms.length, Math.min(phrasePairs, terms.length - 1)).map(([a, b]) =>
    quote(`${terms[a]!.word} ${terms[b]!.word}`),
  )
  return [...alternatives, ...near, ...phrases].join(' OR ')
}
