// BM25 as sparse vectors, for indexes (Qdrant) that score sparse vectors by dot product. The
// document side carries BM25's term-frequency part, length-normalised; the query side is 1 per
// distinct term; the index multiplies in the IDF (Qdrant's `modifier: idf`), so the dot product
// is BM25. Both sides come from the shared text analysis (../text-analysis): documents are cut
// and stemmed like the embedded index's FTS5 `porter unicode61` tokenizer, and a query drops
// its stop words and asks for every form of each word, as the FTS5 MATCH expression does, so a
// query finds the same chunks in local mode and in production.
import fnv1a from '@sindresorhus/fnv1a'
import { analyzeQuery, type QueryAnalysisOptions, tokenize } from '../text-analysis/index.ts'

export { tokenize }

/**
 * A sparse vector as Qdrant takes it: indices unique and ascending, one value per index.
 *
 * @example
 * const vector: SparseVector = { indices: [17, 4_000_000_001], values: [1.3, 0.8] }
 */
export interface SparseVector {
  indices: number[]
  values: number[]
}

/** Reused by every termIndex (a term is encoded into it, in pieces if it is longer): no allocation per term. */
const utf8Buffer = new Uint8Array(256)

/**
 * The sparse index of a term: 32-bit FNV-1a of its UTF-8 bytes. Stable across runs, machines
 * and releases, which it must be: stored vectors and new queries have to agree on it. Two
 * terms may collide (rarely, in 2^32); they then count as one term.
 *
 * @example
 * termIndex('cach') // the same unsigned 32-bit integer everywhere
 */
export function termIndex(term: string): number {
  return Number(fnv1a(term, { size: 32, utf8Buffer }))
}

/** Sums weights per index (terms, then hash collisions) and sorts by index. */
function toSparse(weights: Map<string, number>): SparseVector {
  const byIndex = new Map<number, number>()
  for (const [term, weight] of weights) {
    const index = termIndex(term)
    byIndex.set(index, (byIndex.get(index) ?? 0) + weight)
  }
  const indices = [...byIndex.keys()].sort((a, b) => a - b)
  return { indices, values: indices.map((index) => byIndex.get(index)!) }
}

/**
 * BM25's parameters for the document side.
 *
 * @example
 * sparseDocumentVector(title, { b: 0 } satisfies SparseDocumentOptions) // no length penalty
 */
export interface SparseDocumentOptions {
  /** How fast a repeated term stops adding weight. Default 1.2 (Lucene's, and FTS5's). */
  k1?: number
  /** How much a longer document is penalised, 0 (none) to 1 (fully). Default 0.75. */
  b?: number
  /**
   * The average document length in terms. BM25 takes it from the corpus; here it is fixed so a
   * vector never changes once stored. Default 60, about a chunk of spoken transcript.
   */
  avgDocLength?: number
}

/**
 * The document side of BM25 for `text`: per distinct term, tf·(k1+1) / (tf + k1·(1 − b + b·len/avg)).
 * Empty when the text has no word.
 *
 * @example
 * sparseDocumentVector('caching and cached responses') // { indices: [3 terms' indices], values: [...] }
 * sparseDocumentVector('   ') // { indices: [], values: [] }
 */
export function sparseDocumentVector(
  text: string,
  { k1 = 1.2, b = 0.75, avgDocLength = 60 }: SparseDocumentOptions = {},
): SparseVector {
  if (!(k1 >= 0) || !(b >= 0 && b <= 1) || !(avgDocLength > 0)) {
    throw new RangeError(
      `BM25 needs k1 ≥ 0, 0 ≤ b ≤ 1 and avgDocLength > 0; got k1=${k1}, b=${b}, avgDocLength=${avgDocLength}`,
    )
  }
  const terms = tokenize(text)
  const frequencies = new Map<string, number>()
  for (const term of terms) frequencies.set(term, (frequencies.get(term) ?? 0) + 1)
  const norm = k1 * (1 - b + (b * terms.length) / avgDocLength)
  const weights = new Map<string, number>()
  for (const [term, tf] of frequencies) weights.set(term, (tf * (k1 + 1)) / (tf + norm))
  return toSparse(weights)
}

/**
 * @example
 * sparseQueryVector(pastedPage, { maxTerms: 16, languages: ['en'] } satisfies SparseQueryOptions)
 */
export type SparseQueryOptions = QueryAnalysisOptions

/**
 * The query side: weight 1 for each index term of each query word's forms (the index applies
 * IDF), stop words left out unless the query has nothing else. Empty when the text has no
 * word; send no sparse query then.
 *
 * @example
 * sparseQueryVector('Caching? cached!') // { indices: [termIndex('cach')], values: [1] }
 * sparseQueryVector('what was built') // indices of 'build' and 'built'
 */
export function sparseQueryVector(text: string, options: SparseQueryOptions = {}): SparseVector {
  const weights = new Map<string, number>()
  for (const { stems } of analyzeQuery(text, options)) for (const term of stems) weights.set(term, 1)
  return toSparse(weights)
}

/**
 * Adds `b`, scaled by `weight`, to `a`: how a chunk's title joins its text in one vector.
 *
 * @example
 * addSparse(sparseDocumentVector(text), sparseDocumentVector(title, { b: 0 }), 0.5)
 */
export function addSparse(a: SparseVector, b: SparseVector, weight = 1): SparseVector {
  const sum = new Map<number, number>()
  for (const [i, index] of a.indices.entries()) sum.set(index, (sum.get(index) ?? 0) + a.values[i]!)
  for (const [i, index] of b.indices.entries()) sum.set(index, (sum.get(index) ?? 0) + weight * b.values[i]!)
  // A zero weight would still count the term as present in Qdrant's IDF statistics.
  const indices = [...sum.keys()].filter((index) => sum.get(index) !== 0).sort((x, y) => x - y)
  return { indices, values: indices.map((index) => sum.get(index)!) }
}
