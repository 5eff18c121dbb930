// The chunk index of the embedded local mode: chunk rows, an FTS5 table for BM25 and, once a
// chunk arrives with an embedding, a sqlite-vec `vec0` table; search fuses the two by rank.
// Writes go through the one main connection; searches run on a pool of reader threads, each
// with a read-only connection to the same file, so they use every core and leave the event
// loop free.
import type { DatabaseSync } from 'node:sqlite'
import type { Piscina } from 'piscina'
import * as sqliteVec from 'sqlite-vec'
import { EmbeddingDimensionError } from '../embedding-size/index.ts'
export { EmbeddingDimensionError }
import { analyzeQuery } from '../text-analysis/index.ts'
import { assertLimit } from '../../limit/index.ts'
import type { ChunkHit, ChunkIndex, ChunkRecord, ChunkSearchQuery } from '../../ports.ts'
import { closeDatabase, openDatabase, transaction } from '../../sqlite/index.ts'
import { runSearch, storedDimensions, toFloat32Blob, type SearchPlan } from './query.ts'
import type { ReaderResult, ReaderTask } from './reader.ts'

export interface SqliteChunkIndexOptions {
  /** The database file; its parent directory is created. */
  path: string
  /**
   * The embedding size, when known up front. Without it, the first embedding stored fixes it.
   * Either way an embedding of another size is an error, and so is reopening with another size.
   */
  dimensions?: number
  /** How long a write waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number
  /**
   * Weights of the text, title and chapter-title columns in BM25. Default [1, 0.5, 0.5]: a
   * title repeats in every chunk of a video, a chapter's in every chunk of the chapter.
   */
  bm25Weights?: [text: number, title: number, chapter: number]
  /** The k of reciprocal rank fusion. Default 60. */
  rrfK?: number
  /** Whose stop words a query drops (ISO 639-1 codes or tags). Default `['en']`. */
  languages?: readonly string[]
  /**
   * Reader threads that run searches, each with its own read-only connection; started on the
   * first search, and stopped after `readerIdleMs` without one. While none is up, searches run on
   * the calling thread rather than wait for one to start. 0 searches on the calling thread, as an
   * in-memory database always does. Default 0; the configuration's default
   * (`VECTOR_DB__SEARCH_THREADS`) is the number of cores.
   */
  searchThreads?: number
  /** How long an idle reader thread is kept. Default 10 000 ms. */
  readerIdleMs?: number
}

// Contentless: the text already lives in chunks; contentless_delete lets a re-index remove rows.
// The chapter column holds the title of the chunk's chapter, so its words count (weighted).
const FTS_TABLE = `CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  text, title, chapter, content='', contentless_delete=1, tokenize='porter unicode61'
);`

const SCHEMA = `
CREATE TABLE IF NOT EXISTS chunks (
  rowid        INTEGER PRIMARY KEY,  -- joins the FTS5 and vec0 tables, which key on integers
  id           TEXT NOT NULL UNIQUE,
  video_id     TEXT NOT NULL,
  chunk_index  INTEGER NOT NULL,
  title        TEXT NOT NULL,
  channel_id   TEXT,
  published_at TEXT,
  url          TEXT NOT NULL,
  start        REAL NOT NULL,
  end          REAL NOT NULL,
  text         TEXT NOT NULL,
  chapter      TEXT,  -- JSON: ChunkChapter
  sentences    TEXT   -- JSON: ChunkSentence[]
) STRICT;
CREATE INDEX IF NOT EXISTS chunks_by_video ON chunks (video_id, chunk_index);

${FTS_TABLE}

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
`

/**
 * The schema's version (PRAGMA user_version); a newer file is refused. 2: the FTS5 table has the
 * chapter title as a column of its own (a file made before gets its FTS5 table rebuilt from
 * `chunks` on open). 3: `chunks.sentences`, where each sentence starts (added on open, empty for
 * the rows already there, whose hits then take the chunk's start as their moment).
 */
const SCHEMA_VERSION = 3

/** Columns added to `chunks` after its first release: a file made before gets them on open, its rows kept. */
const ADDED_COLUMNS: Record<string, string> = { chapter: 'TEXT', sentences: 'TEXT' }

/**
 * The ChunkIndex of the embedded local mode: SQLite FTS5 (BM25, porter stemming) plus
 * sqlite-vec, fused with reciprocal rank fusion.
 *
 * @example
 * const chunks = new SqliteChunkIndex({ path: '.youtube-rag/chunks.sqlite' })
 * await chunks.replaceVideoChunks(videoId, records)
 * const hits = await chunks.search({ text: 'how does caching work', limit: 8 })
 */
export class SqliteChunkIndex implements ChunkIndex {
  readonly #db: DatabaseSync
  readonly #path: string
  readonly #busyTimeoutMs: number
  readonly #dimensions: number | undefined
  readonly #weights: readonly [number, number, number]
  readonly #rrfK: number
  readonly #languages: readonly string[]
  readonly #searchThreads: number
  readonly #readerIdleMs: number
  /** Started by the first search when there are reader threads; undefined again once closed. */
  #readers: Promise<Piscina<ReaderTask, ReaderResult>> | undefined
  /** A reader thread starting (its first task, which opens its connection), while searches run here. */
  #warming: Promise<unknown> | undefined

  constructor({
    path,
    dimensions,
    busyTimeoutMs = 5000,
    bm25Weights = [1, 0.5, 0.5],
    rrfK = 60,
    languages = ['en'],
    searchThreads = 0,
    readerIdleMs = 10_000,
  }: SqliteChunkIndexOptions) {
    if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions < 1)) {
      throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`)
    }
    if (!Number.isInteger(searchThreads) || searchThreads < 0)
      throw new RangeError(`searchThreads must be an integer ≥ 0, got ${searchThreads}`)
    this.#path = path
    this.#busyTimeoutMs = busyTimeoutMs
    this.#dimensions = dimensions
    this.#weights = bm25Weights
    this.#rrfK = rrfK
    this.#languages = languages
    // Another connection cannot see an in-memory database.
    this.#searchThreads = path === ':memory:' ? 0 : searchThreads
    this.#readerIdleMs = readerIdleMs
    this.#db = openDatabase({ path, busyTimeoutMs, allowExtension: true })
    try {
      sqliteVec.load(this.#db)
      // Nothing else may load code into this handle.
      this.#db.enableLoadExtension(false)
      transaction(this.#db, () => {
        const { user_version } = this.#db.prepare('PRAGMA user_version').get() as { user_version: number }
        if (user_version > SCHEMA_VERSION)
          throw new Error(
            `${path} has chunk index schema version ${user_version}; this build knows up to ${SCHEMA_VERSION}`,
          )
        this.#db.exec(SCHEMA)
        const columns = new Set(
          this.#db
            .prepare('PRAGMA table_info(chunks)')
            .all()
            .map((column) => String(column.name)),
        )
        for (const [column, type] of Object.entries(ADDED_COLUMNS)) {
          if (!columns.has(column)) this.#db.exec(`ALTER TABLE chunks ADD COLUMN ${column} ${type}`)
        }
        const ftsColumns = new Set(
          this.#db
            .prepare('PRAGMA table_info(chunks_fts)')
            .all()
            .map((column) => String(column.name)),
        )
        if (!ftsColumns.has('chapter')) {
          // Version 0: the FTS5 table had no chapter column. It is contentless, so it is rebuilt
          // from the chunks, which hold every word it indexed; nothing is lost.
          this.#db.exec(`DROP TABLE chunks_fts; ${FTS_TABLE}
            INSERT INTO chunks_fts (rowid, text, title, chapter) SELECT rowid, text, title, chapter ->> '$.title' FROM chunks;`)
        }
        this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
        const stored = storedDimensions(this.#db)
        if (dimensions !== undefined && stored !== undefined && stored !== dimensions) {
          throw new EmbeddingDimensionError(
            `${path} holds ${stored}-dimensional embeddings; the index was opened for ${dimensions}`,
          )
        }
      })
    } catch (error) {
      closeDatabase(this.#db)
      throw error
    }
  }

  /** Creates the vec0 table on the first embedding; the dimension is fixed from then on. */
  #ensureVectors(size: number): void {
    const stored = storedDimensions(this.#db)
    const expected = stored ?? this.#dimensions
    if (expected !== undefined && expected !== size) {
      throw new EmbeddingDimensionError(`Embedding has ${size} dimensions; this index stores ${expected}`)
    }
    if (stored !== undefined) return
    this.#db.exec(`CREATE VIRTUAL TABLE chunk_vectors USING vec0(embedding float[${size}] distance_metric=cosine)`)
    this.#db.prepare(`INSERT INTO meta (key, value) VALUES ('dimensions', ?)`).run(String(size))
  }

  #deleteRows(videoId: string): number {
    const ids = `SELECT rowid FROM chunks WHERE video_id = ?`
    this.#db.prepare(`DELETE FROM chunks_fts WHERE rowid IN (${ids})`).run(videoId)
    if (storedDimensions(this.#db) !== undefined)
      this.#db.prepare(`DELETE FROM chunk_vectors WHERE rowid IN (${ids})`).run(videoId)
    return Number(this.#db.prepare('DELETE FROM chunks WHERE video_id = ?').run(videoId).changes)
  }

  async replaceVideoChunks(videoId: string, chunks: ChunkRecord[]): Promise<void> {
    for (const chunk of chunks) {
      if (chunk.videoId !== videoId)
        throw new Error(`Chunk ${chunk.id} belongs to video ${chunk.videoId}, not ${videoId}`)
      if (chunk.embedding && chunk.embedding.length === 0)
        throw new EmbeddingDimensionError(`Chunk ${chunk.id} has an empty embedding`)
    }
    transaction(this.#db, () => {
      this.#deleteRows(videoId)
      const insertChunk = this.#db.prepare(
        `INSERT INTO chunks (id, video_id, chunk_index, title, channel_id, published_at, url, start, end, text, chapter, sentences)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      const insertText = this.#db.prepare('INSERT INTO chunks_fts (rowid, text, title, chapter) VALUES (?, ?, ?, ?)')
      for (const chunk of chunks) {
        const { lastInsertRowid } = insertChunk.run(
          chunk.id,
          chunk.videoId,
          chunk.chunkIndex,
          chunk.title,
          chunk.channelId ?? null,
          chunk.publishedAt ?? null,
          chunk.url,
          chunk.start,
          chunk.end,
          chunk.text,
          chunk.chapter ? JSON.stringify({ title: chunk.chapter.title, start: chunk.chapter.start }) : null,
          chunk.sentences ? JSON.stringify(chunk.sentences.map(({ offset, start }) => ({ offset, start }))) : null,
        )
        // vec0 refuses a REAL rowid, and node:sqlite binds JS numbers as REAL: pass a bigint.
        const rowid = BigInt(lastInsertRowid)
        insertText.run(rowid, chunk.text, chunk.title, chunk.chapter?.title ?? null)
        if (chunk.embedding) {
          this.#ensureVectors(chunk.embedding.length)
          this.#db
            .prepare('INSERT INTO chunk_vectors (rowid, embedding) VALUES (?, ?)')
            .run(rowid, toFloat32Blob(chunk.embedding))
        }
      }
    })
  }

  async deleteVideo(videoId: string): Promise<number> {
    return transaction(this.#db, () => this.#deleteRows(videoId))
  }

  async countVideo(videoId: string): Promise<number> {
    const row = this.#db.prepare('SELECT count(*) AS n FROM chunks WHERE video_id = ?').get(videoId)
    return Number(row?.n ?? 0)
  }

  async search({ text, embedding, limit, filter }: ChunkSearchQuery): Promise<ChunkHit[]> {
    assertLimit(limit)
    const plan: SearchPlan = {
      terms: analyzeQuery(text, { languages: this.#languages }),
      ...(embedding ? { embedding } : {}),
      ...(filter ? { filter } : {}),
      limit,
      weights: this.#weights,
      rrfK: this.#rrfK,
    }
    if (this.#searchThreads === 0) return runSearch(this.#db, plan)
    const readers = await this.#startReaders()
    // No reader thread is up: the first search, or the first since they stopped when idle. One
    // takes ~100–150 ms to start, longer than most searches, so this search runs here while a
    // thread starts (its first task only opens its connection); the next ones go to the threads.
    if (readers.threads.length === 0 || this.#warming) {
      this.#warming ??= readers
        .run({
          path: this.#path,
          busyTimeoutMs: this.#busyTimeoutMs,
          plan: { terms: [], limit: 1, weights: plan.weights, rrfK: plan.rrfK },
        })
        // A thread that fails to start is the next search's to report, through the pool.
        .catch(() => {})
        .finally(() => (this.#warming = undefined))
      return runSearch(this.#db, plan)
    }
    const result = await readers.run({ path: this.#path, busyTimeoutMs: this.#busyTimeoutMs, plan })
    if ('dimensionError' in result) throw new EmbeddingDimensionError(result.dimensionError)
    return result.hits
  }

  /** The pool of reader threads, started once; piscina unrefs idle threads, so they never keep the process alive. */
  #startReaders(): Promise<Piscina<ReaderTask, ReaderResult>> {
    this.#readers ??= Promise.all([import('piscina'), import('./reader.ts')]).then(
      ([{ Piscina }, { readerUrl }]) =>
        new Piscina<ReaderTask, ReaderResult>({
          filename: readerUrl,
          minThreads: 0,
          maxThreads: this.#searchThreads,
          idleTimeout: this.#readerIdleMs,
          // A search holds its thread until it returns: SQLite calls are synchronous.
          concurrentTasksPerWorker: 1,
        }),
    )
    return this.#readers
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT vec_version()').get()
  }

  /** Waits for the searches under way, stops the reader threads, then closes the main connection. */
  async close(): Promise<void> {
    const readers = this.#readers
    this.#readers = undefined
    if (readers) await (await readers).close()
    closeDatabase(this.#db)
  }
}
