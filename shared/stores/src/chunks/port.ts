// The chunks port: a video's passages, searched by BM25 and dense vectors.
import type { ChapterRef } from '@ytrag/domain'
import type { ChunkSentence } from '@ytrag/transcript'

export interface ChunkRecord {
  /** UUIDv5 of `videoId:chunkIndex`. */
  id: string
  videoId: string
  chunkIndex: number
  title: string
  channelId?: string
  publishedAt?: string
  /** The video's page URL, for deep links. */
  url: string
  start: number
  end: number
  text: string
  /** The video's chapter the chunk starts in, when the video has chapters. */
  chapter?: ChapterRef
  /**
   * Where each sentence (or cue group) of `text` starts: its offset in `text` and its time, in
   * order, the first at offset 0. A hit's `moment` is chosen from them; chunks indexed before
   * they were kept have none (their moment is their start).
   */
  sentences?: ChunkSentence[]
  /** Dense embedding, when an embedding provider is configured. */
  embedding?: number[]
}

export interface SearchFilter {
  videoIds?: string[] | undefined
  channelIds?: string[] | undefined
  publishedAfter?: string | undefined
}

export interface ChunkHit extends ChunkRecord {
  score: number
  /**
   * The index terms the search looked for, by question word, when the index widened the query:
   * each word's own forms, and for a word no chunk has, the related words it stood for
   * ("designed": design, architect), so the hit's moment is the sentence that says them.
   * Absent: the question's own words.
   */
  queryTerms?: readonly (readonly string[])[]
}

/** A search: `text` for BM25, `embedding` (when the index has vectors) for the dense side, at most `limit` hits. */
export interface ChunkSearchQuery {
  text: string
  embedding?: number[]
  limit: number
  filter?: SearchFilter
}

/** The chunk index: BM25 over chunk text, dense vectors when present, fused by rank. */
export interface ChunkIndex {
  /** Replaces every chunk of the videos given (a re-index leaves no stale chunk behind). */
  replaceVideoChunks(videoId: string, chunks: ChunkRecord[]): Promise<void>
  deleteVideo(videoId: string): Promise<number>
  countVideo(videoId: string): Promise<number>
  search(query: ChunkSearchQuery): Promise<ChunkHit[]>
  ping(): Promise<void>
  close(): Promise<void>
}
