// A reader thread of the embedded chunk index: piscina loads this module in each worker of the
// index's pool and calls its default export once per search. Each thread keeps one read-only
// connection per file (WAL mode lets it read while the main connection writes), so searches run
// on as many cores as there are threads and never block the server's event loop.
import { DatabaseSync } from 'node:sqlite'
import * as sqliteVec from 'sqlite-vec'
import { EmbeddingDimensionError } from '../embedding-size/index.ts'
import type { ChunkHit } from '../../ports.ts'
import { runSearch, type SearchPlan } from './query.ts'

/**
 * Where this module is, for the pool to load it: read from the module itself, so it stays
 * right when a bundler moves the code into a chunk of its own.
 */
export const readerUrl = import.meta.url

export interface ReaderTask {
  path: string
  busyTimeoutMs: number
  plan: SearchPlan
}

/**
 * What a search in a reader thread gives back. An EmbeddingDimensionError is returned, not
 * thrown: an error crossing threads loses its class, and callers tell that one apart.
 */
export type ReaderResult = { hits: ChunkHit[] } | { dimensionError: string }

const connections = new Map<string, DatabaseSync>()

function connection(path: string, busyTimeoutMs: number): DatabaseSync {
  let db = connections.get(path)
  if (!db) {
    db = new DatabaseSync(path, { readOnly: true, allowExtension: true, timeout: busyTimeoutMs })
    sqliteVec.load(db)
    // Nothing else may load code into this handle.
    db.enableLoadExtension(false)
    connections.set(path, db)
  }
  return db
}

/** Runs one search on this thread's connection to `path`. */
export default function search({ path, busyTimeoutMs, plan }: ReaderTask): ReaderResult {
  try {
    return { hits: runSearch(connection(path, busyTimeoutMs), plan) }
  } catch (error) {
    if (error instanceof EmbeddingDimensionError) return { dimensionError: error.message }
    throw error
  }
}
