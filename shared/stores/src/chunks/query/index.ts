// Free user text never reaches FTS5's query syntax: it is read by the shared query analysis
// (stop words out, word forms in) and each form is quoted, so `AND`, `-`, `(`, `"` and `*` are
// plain text. Quoted phrases still go through the table's tokenizer, so porter stemming and
// case folding apply as usual.
import { analyzeQuery, type QueryAnalysisOptions } from '../text-analysis/index.ts'

export interface FtsQueryOptions extends QueryAnalysisOptions {
  /**
   * How many pairs of neighbouring query words are also asked for as a NEAR group, so a passage
   * that has them close together ranks above one that has them pages apart (BM25 counts the
   * group's hits again). Default 3; 0 turns proximity off.
   */
  proximityPairs?: number
  /** How many words may stand between the two words of a pair. Default 8. */
  proximityWindow?: number
}

/** A phrase of one word: doubling a quote keeps the quoting correct if the word cutting ever lets one through. */
const quote = (word: string) => `"${word.replaceAll('"', '""')}"`

/**
 * Turns free text into an FTS5 MATCH expression: each distinct content word (the form it was
 * asked in, or any other form of it), ORed, plus NEAR groups of neighbouring words. `undefined`
 * when the text has no word (the caller then has nothing to match).
 *
 * @example
 * toFtsQuery('what was built from the fallen blocks')
 * // '("build" OR "built") OR ("fall" OR "fell" OR "fallen") OR "blocks" OR NEAR("built" "fallen", 8) OR NEAR("fallen" "blocks", 8)'
 */
export function toFtsQuery(
  text: string,
  { proximityPairs = 3, proximityWindow = 8, ...analysis }: FtsQueryOptions = {},
): string | undefined {
  const terms = analyzeQuery(text, analysis)
  if (terms.length === 0) return undefined
  const alternatives = terms.map(({ forms }) =>
    forms.length === 1 ? quote(forms[0]!) : `(${forms.map(quote).join(' OR ')})`,
  )
  const near: string[] = []
  for (let i = 0; i + 1 < terms.length && near.length < proximityPairs; i++) {
    near.push(`NEAR(${quote(terms[i]!.word)} ${quote(terms[i + 1]!.word)}, ${proximityWindow})`)
  }
  return [...alternatives, ...near].join(' OR ')
}
