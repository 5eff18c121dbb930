// Free user text never reaches FTS5's query syntax: it is cut into words and each word is
// quoted, so `AND`, `-`, `(`, `"` and `*` are plain text. Quoted phrases still go through the
// table's tokenizer, so porter stemming and case folding apply as usual.

/** Letters, digits and combining marks, like unicode61's token characters (L*, N*) plus marks so NFD text stays whole. */
const WORD = /[\p{L}\p{N}\p{M}]+/gu

export interface FtsQueryOptions {
  /** The most terms kept, so a pasted page cannot make a huge query. Default 32. */
  maxTerms?: number
}

/**
 * Turns free text into an FTS5 MATCH expression that ORs every distinct word, or `undefined`
 * when the text has no word (the caller then has nothing to match).
 *
 * @example
 * toFtsQuery(`what's "C++" -foo AND (`) // '"what" OR "s" OR "c" OR "foo" OR "and"'
 */
export function toFtsQuery(text: string, { maxTerms = 32 }: FtsQueryOptions = {}): string | undefined {
  const terms = new Set<string>()
  for (const [word] of text.normalize('NFC').matchAll(WORD)) {
    if (terms.size >= maxTerms) break
    terms.add(word.toLowerCase())
  }
  if (terms.size === 0) return undefined
  // The words cannot hold a double quote, but doubling it keeps the quoting correct if WORD ever widens.
  return [...terms].map((term) => `"${term.replaceAll('"', '""')}"`).join(' OR ')
}
