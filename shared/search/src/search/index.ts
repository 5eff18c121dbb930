import type { ChunkChapter, ChunkHit, ChunkIndex, SearchFilter } from '@ytrag/stores'
import { deepLink } from '@ytrag/youtube'

/** A search hit as the API gives it: the chunk's words, its times, its chapter and a deep link to the moment. */
export interface SearchHit {
  videoId: string
  title: string
  start: number
  end: number
  text: string
  score: number
  url: string
  /** The video's chapter the passage starts in (its title and start), when the video has chapters. */
  chapter?: ChunkChapter
}

/** Rounds a score for the wire; ranks, not digits, carry the meaning. */
const round = (value: number) => Math.round(value * 1e6) / 1e6

/**
 * Turns an index hit into the API's hit, with its deep link.
 *
 * @example
 * ```ts
 * toSearchHit(hit).url // 'https://www.youtube.com/watch?v=ID&t=754s'
 * ```
 */
export function toSearchHit(hit: ChunkHit): SearchHit {
  return {
    videoId: hit.videoId,
    title: hit.title,
    start: hit.start,
    end: hit.end,
    text: hit.text,
    score: round(hit.score),
    url: deepLink({ videoId: hit.videoId, pageUrl: hit.url, seconds: hit.start }),
    ...(hit.chapter ? { chapter: { title: hit.chapter.title, start: hit.chapter.start } } : {}),
  }
}

/**
 * Searches the chunk index: BM25, fused with dense vectors when an embedding is given.
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
  return hits.map(toSearchHit)
}
