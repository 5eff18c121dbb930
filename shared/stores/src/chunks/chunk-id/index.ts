import { v5 as uuidv5 } from 'uuid'

/**
 * The project's UUIDv5 namespace for chunk ids. Never change it: every stored chunk id (and
 * Qdrant point id) is derived from it, so a new value would orphan the whole index.
 */
export const CHUNK_ID_NAMESPACE = 'b78de5ef-f48a-44e2-9d3b-91dd0202fed7'

/**
 * The deterministic id of a chunk, so re-indexing a video writes the same ids (an upsert, not a
 * duplicate) in every adapter.
 *
 * @example
 * chunkId('dQw4w9WgXcQ', 0) // the same UUID on every run and every machine
 */
export function chunkId(videoId: string, chunkIndex: number): string {
  if (!Number.isInteger(chunkIndex) || chunkIndex < 0)
    throw new RangeError(`chunkIndex must be a non-negative integer, got ${chunkIndex}`)
  return uuidv5(`${videoId}:${chunkIndex}`, CHUNK_ID_NAMESPACE)
}
