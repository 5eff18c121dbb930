import type { ChunkChapter, ChunkHit, ChunkIndex, SearchFilter } from '@ytrag/stores'
import { deepLink } from '@ytrag/youtube'
import { momentSeconds, queryTerms } from '../moment/index.ts'

/** A search hit as the API gives it: the chunk's words, its times, its chapter and a deep link to the moment. */
export interface SearchHit {
  videoId: string
  title: string
  /** The chunk's start and end, in seconds. */
  start: number
  end: number
  /**
   * Where the sentence of the chunk that best matches the query starts, in seconds (the
   * chunk's start for a chunk indexed without sentence times); `url` links here.
   */
  moment: number
  text: string
  score: number
  url: string
  /** The video's chapter the passage starts in (its title and start), when the video has chapters. */
  chapter?: ChunkChapter
}

/** Rounds a score for the wire; ranks, not digits, carry the meaning. */
const round = (value: number) => Math.round(value * 1e6) / 1e6

/** Milliseconds are plenty; rounded down, so the link never starts after the sentence. */
const toMillis = (seconds: number) => Math.floor(seconds * 1000) / 1000

/**
 * Turns an index hit into the API's hit: its moment for the query, and a deep link there.
 *
 * @example
 * ```ts
 * toSearchHit(hit, 'who built the fortress').url // 'https://www.youtube.com/watch?v=ID&t=754s'
 * ```
 */
export function toSearchHit(hit: ChunkHit, query: string, terms = queryTerms(query)): SearchHit {
  const moment = toMillis(momentSeconds(hit, terms))
  return {
    videoId: hit.videoId,
    title: hit.title,
    start: hit.start,
    end: hit.end,
    moment,
    text: hit.text,
    score: round(hit.score),
    url: deepLink({ videoId: hit.videoId, pageUrl: hit.url, seconds: moment }),
    ...(hit.chapter ? { chapter: { title: hit.chapter.title, start: hit.chapter.start } } : {}),
  }
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
  const terms = queryTerms(request.query)
  return hits.map((hit) => toSearchHit(hit, request.query, terms))
}
