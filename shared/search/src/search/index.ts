import type { SearchHit } from '@ytrag/domain'
import type { ChunkHit, ChunkIndex, SearchFilter } from '@ytrag/stores'
import { deepLink } from '@ytrag/youtube'
import { momentsOf, queryTerms } from '../moment/index.ts'

/** Rounds a score for the wire; ranks, not digits, carry the meaning. */
const round = (value: number) => Math.round(value * 1e6) / 1e6

/** Milliseconds are plenty; rounded down, so the link never starts after the sentence. */
const toMillis = (seconds: number) => Math.floor(seconds * 1000) / 1000

/**
 * Turns a search's index hits into the API's hits: each with its moment for the query (chosen
 * with the others, `momentsOf`), and a deep link there.
 *
 * @example
 * ```ts
 * toSearchHits(hits, 'who built the fortress')[0]!.url // 'https://www.youtube.com/watch?v=ID&t=754s'
 * ```
 */
export function toSearchHits(hits: readonly ChunkHit[], query: string): SearchHit[] {
  // The index's terms when it widened the question, so the moment says the word it was found by.
  const moments = momentsOf(hits, hits[0]?.queryTerms ?? queryTerms(query))
  return hits.map((hit, index) => {
    const moment = toMillis(moments[index]!.seconds)
    return {
      videoId: hit.videoId,
      title: hit.title,
      start: hit.start,
      end: hit.end,
      moment,
      // Without sentence times the link plays the passage from its start: there is no sentence to quote.
      ...(hit.sentences?.length ? { quote: moments[index]!.sentence } : {}),
      text: hit.text,
      score: round(hit.score),
      url: deepLink({ videoId: hit.videoId, pageUrl: hit.url, seconds: moment }),
      ...(hit.chapter ? { chapter: { title: hit.chapter.title, start: hit.chapter.start } } : {}),
    }
  })
}

/**
 * Searches the chunk index: BM25, fused with dense vectors when an embedding is given. Each
 * hit links to its moment: the sentence that best matches the query.
 *
 * @example
 * ```ts
 * const hits = await searchChunks(stores.chunks, { query: 'covering index', limit: 5 })
 * ```
 */
export async function searchChunks(
  chunks: ChunkIndex,
  request: { query: string; limit?: number; filter?: SearchFilter; embedding?: number[] },
): Promise<SearchHit[]> {
  const hits = await chunks.search({
    text: request.query,
    limit: request.limit ?? 10,
    ...(request.filter ? { filter: request.filter } : {}),
    ...(request.embedding ? { embedding: request.embedding } : {}),
  })
  return toSearchHits(hits, request.query)
}
