// Reciprocal rank fusion (Cormack, Clarke & Büttcher, 2009): fuses rankings by position alone,
// so BM25 scores and vector distances, which live on unrelated scales, never need normalising.

/** One fused result: the item as first seen, and the sum of 1 / (k + rank) over the lists holding it. */
export interface FusedItem<T> {
  item: T
  score: number
}

/**
 * Fuses ranked lists (best first) into one, best first. `k` damps the head of each list: 60 is
 * the paper's value and works without tuning. Ties keep the order items were first seen in.
 *
 * @example
 * const fused = reciprocalRankFusion([bm25Hits, vectorHits], (hit) => hit.id)
 * fused[0] // { item: <the hit ranked well in both>, score: 1/61 + 1/62 }
 */
export function reciprocalRankFusion<T>(lists: T[][], key: (item: T) => string, k = 60): FusedItem<T>[] {
  const fused = new Map<string, FusedItem<T>>()
  for (const list of lists) {
    const seen = new Set<string>()
    list.forEach((item, index) => {
      const id = key(item)
      // A duplicate within one list counts once, at its best rank.
      if (seen.has(id)) return
      seen.add(id)
      const contribution = 1 / (k + index + 1)
      const entry = fused.get(id)
      if (entry) entry.score += contribution
      else fused.set(id, { item, score: contribution })
    })
  }
  // Array.prototype.sort is stable, so equal scores keep first-seen order.
  return [...fused.values()].sort((a, b) => b.score - a.score)
}
