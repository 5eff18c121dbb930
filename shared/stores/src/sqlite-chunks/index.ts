// The chunk index of the embedded local mode: chunk rows, an FTS5 table for BM25 and, once a
// chunk arrives with an embedding, a sqlite-vec `vec0` table; search fuses the two by rank.
import type { DatabaseSync, SQLInputValue } from 'node:sqlite'
import * as sqliteVec from 'sqlite-vec'
import { EmbeddingDimensionError } from '../embedding-size/index.ts'
export { EmbeddingDimensionError }
import { toFtsQuery } from '../fts-query/index.ts'
import { reciprocalRankFusion } from '../fusion/index.ts'
import type { ChunkChapter, ChunkHit, ChunkIndex, ChunkRecord, ChunkSentence, SearchFilter } from '../ports.ts'
import { asInteger, closeDatabase, openDatabase, optionalString, transaction } from '../sqlite/index.ts'

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
  /** Weights of the text and title columns in BM25. Default [1, 0.5]: the title repeats in every chunk of a video. */
  bm25Weights?: [text: number, title: number]
  /** The k of reciprocal rank fusion. Default 60. */
  rrfK?: number
}

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

-- Contentless: the text already lives in chunks; contentless_delete lets a re-index remove rows.
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  text, title, content='', contentless_delete=1, tokenize='porter unicode61'
);

CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
`

/**
 * Columns added to `chunks` after its first release: a file made before gets them on open, its
 * rows kept (their new columns empty). Version 1 added `chapter`, 2 `sentences`.
 */
const ADDED_COLUMNS: Record<string, string> = { chapter: 'TEXT', sentences: 'TEXT' }

/** `PRAGMA user_version` of a file this build made or brought up to date; a newer file is refused. */
const SCHEMA_VERSION = 2

/** sqlite-vec refuses a KNN query with k above this. */
const MAX_KNN = 4096

type Row = Record<string, unknown>

const toFloat32Blob = (vector: number[]): Uint8Array => {
  const floats = Float32Array.from(vector)
  return new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength)
}

function toHit(row: Row, score: number): ChunkHit {
  const hit: ChunkHit = {
    id: String(row.id),
    videoId: String(row.video_id),
    chunkIndex: Number(row.chunk_index),
    title: String(row.title),
    url: String(row.url),
    start: Number(row.start),
    end: Number(row.end),
    text: String(row.text),
    score,
  }
  const channelId = optionalString(row.channel_id)
  if (channelId !== undefined) hit.channelId = channelId
  const publishedAt = optionalString(row.published_at)
  if (publishedAt !== undefined) hit.publishedAt = publishedAt
  const chapter = optionalString(row.chapter)
  if (chapter !== undefined) hit.chapter = JSON.parse(chapter) as ChunkChapter
  const sentences = optionalString(row.sentences)
  if (sentences !== undefined) hit.sentences = JSON.parse(sentences) as ChunkSentence[]
  return hit
}

/** The filter as SQL over `chunks` aliased `c`. An empty list means "no filter on that field". */
function filterSql(filter: SearchFilter | undefined): { sql: string; params: string[] } {
  const clauses: string[] = []
  const params: string[] = []
  if (filter?.videoIds?.length) {
    clauses.push('c.video_id IN (SELECT value FROM json_each(?))')
    params.push(JSON.stringify(filter.videoIds))
  }
  if (filter?.channelIds?.length) {
    clauses.push('c.channel_id IN (SELECT value FROM json_each(?))')
    params.push(JSON.stringify(filter.channelIds))
  }
  if (filter?.publishedAfter !== undefined) {
    // ISO 8601 strings in UTC sort as text; a chunk without a date never matches a date filter.
    clauses.push('c.published_at > ?')
    params.push(filter.publishedAfter)
  }
  return { sql: clauses.join(' AND '), params }
}

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
  readonly #dimensions: number | undefined
  readonly #weights: [number, number]
  readonly #rrfK: number

  constructor({ path, dimensions, busyTimeoutMs = 5000, bm25Weights = [1, 0.5], rrfK = 60 }: SqliteChunkIndexOptions) {
    if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions < 1)) {
      throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`)
    }
    this.#dimensions = dimensions
    this.#weights = bm25Weights
    this.#rrfK = rrfK
    this.#db = openDatabase({ path, busyTimeoutMs, allowExtension: true })
    try {
      sqliteVec.load(this.#db)
      // Nothing else may load code into this handle.
      this.#db.enableLoadExtension(false)
      transaction(this.#db, () => {
        const { user_version } = this.#db.prepare('PRAGMA user_version').get() as { user_version: number }
        if (user_version > SCHEMA_VERSION) throw new Error(`${path} has chunk schema version ${user_version}; this build knows up to ${SCHEMA_VERSION}`)
        this.#db.exec(SCHEMA)
        const columns = new Set(this.#db.prepare('PRAGMA table_info(chunks)').all().map((column) => String(column.name)))
        for (const [column, type] of Object.entries(ADDED_COLUMNS)) {
          if (!columns.has(column)) this.#db.exec(`ALTER TABLE chunks ADD COLUMN ${column} ${type}`)
        }
        if (user_version < SCHEMA_VERSION) this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
        const stored = this.#storedDimensions()
        if (dimensions !== undefined && stored !== undefined && stored !== dimensions) {
          throw new EmbeddingDimensionError(`${path} holds ${stored}-dimensional embeddings; the index was opened for ${dimensions}`)
        }
      })
    } catch (error) {
      closeDatabase(this.#db)
      throw error
    }
  }

  /** Read from the file on each use, never cached: another process may have created the vectors table. */
  #storedDimensions(): number | undefined {
    const row = this.#db.prepare(`SELECT value FROM meta WHERE key = 'dimensions'`).get()
    return row ? Number(row.value) : undefined
  }

  /** Creates the vec0 table on the first embedding; the dimension is fixed from then on. */
  #ensureVectors(size: number): void {
    const stored = this.#storedDimensions()
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
    if (this.#storedDimensions() !== undefined) this.#db.prepare(`DELETE FROM chunk_vectors WHERE rowid IN (${ids})`).run(videoId)
    return Number(this.#db.prepare('DELETE FROM chunks WHERE video_id = ?').run(videoId).changes)
  }

  async replaceVideoChunks(videoId: string, chunks: ChunkRecord[]): Promise<void> {
    for (const chunk of chunks) {
      if (chunk.videoId !== videoId) throw new Error(`Chunk ${chunk.id} belongs to video ${chunk.videoId}, not ${videoId}`)
      if (chunk.embedding && chunk.embedding.length === 0) throw new EmbeddingDimensionError(`Chunk ${chunk.id} has an empty embedding`)
    }
    transaction(this.#db, () => {
      this.#deleteRows(videoId)
      const insertChunk = this.#db.prepare(
        `INSERT INTO chunks (id, video_id, chunk_index, title, channel_id, published_at, url, start, end, text, chapter, sentences)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      const insertText = this.#db.prepare('INSERT INTO chunks_fts (rowid, text, title) VALUES (?, ?, ?)')
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
        insertText.run(rowid, chunk.text, chunk.title)
        if (chunk.embedding) {
          this.#ensureVectors(chunk.embedding.length)
          this.#db.prepare('INSERT INTO chunk_vectors (rowid, embedding) VALUES (?, ?)').run(rowid, toFloat32Blob(chunk.embedding))
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

  async search({ text, embedding, limit, filter }: { text: string; embedding?: number[]; limit: number; filter?: SearchFilter }): Promise<ChunkHit[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
    // Enough candidates per list that a chunk ranked well by only one of them survives fusion.
    const candidates = Math.min(Math.max(limit * 5, 50), MAX_KNN)
    const where = filterSql(filter)
    const match = toFtsQuery(text)

    // One read transaction: both lists and the rows come from the same snapshot.
    this.#db.exec('BEGIN')
    try {
      const textRanked: { rowid: number; score: number }[] = []
      if (match) {
        // Without a filter the top k are ranked inside FTS5 and only they are read from `chunks`
        // (below): joining every match before sorting cost ~1.7x a bare FTS5 query. A filter
        // needs the chunk's columns, so it joins; it also narrows what is sorted.
        const rows = where.sql
          ? this.#db
              .prepare(
                `SELECT c.rowid AS rowid, bm25(chunks_fts, ?, ?) AS rank
                 FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid
                 WHERE chunks_fts MATCH ? AND ${where.sql}
                 ORDER BY rank, c.rowid LIMIT ?`,
              )
              .all(this.#weights[0], this.#weights[1], match, ...where.params, asInteger(candidates))
          : this.#db
              .prepare(`SELECT rowid, bm25(chunks_fts, ?, ?) AS rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank, rowid LIMIT ?`)
              .all(this.#weights[0], this.#weights[1], match, asInteger(candidates))
        // SQLite's bm25() is negative, lower is better; negate it so a higher score is better.
        for (const row of rows) textRanked.push({ rowid: Number(row.rowid), score: -Number(row.rank) })
      }

      const dimensions = embedding ? this.#storedDimensions() : undefined
      let ranked: { rowid: number; score: number }[]
      if (embedding && dimensions !== undefined) {
        if (embedding.length !== dimensions) {
          throw new EmbeddingDimensionError(`Query embedding has ${embedding.length} dimensions; this index stores ${dimensions}`)
        }
        // The filter runs inside the KNN query (rowid IN …), so k counts matching chunks only.
        const params: SQLInputValue[] = [toFloat32Blob(embedding), asInteger(candidates)]
        const rows = this.#db
          .prepare(
            `SELECT rowid, distance FROM chunk_vectors
             WHERE embedding MATCH ? AND k = ?
             ${where.sql ? `AND rowid IN (SELECT c.rowid FROM chunks c WHERE ${where.sql})` : ''}
             ORDER BY distance`,
          )
          .all(...params, ...where.params)
        const vectorRanked = rows.map((row) => ({ rowid: Number(row.rowid), score: 0 }))
        ranked = reciprocalRankFusion([textRanked, vectorRanked], (item) => String(item.rowid), this.#rrfK)
          .slice(0, limit)
          .map(({ item, score }) => ({ rowid: item.rowid, score }))
      } else {
        ranked = textRanked.slice(0, limit)
      }
      if (ranked.length === 0) return []

      const rows = this.#db
        .prepare('SELECT c.rowid AS rowid, c.* FROM chunks c WHERE c.rowid IN (SELECT value FROM json_each(?))')
        .all(JSON.stringify(ranked.map((item) => item.rowid)))
      const byRowid = new Map(rows.map((row) => [Number(row.rowid), row]))
      return ranked.flatMap(({ rowid, score }) => {
        const row = byRowid.get(rowid)
        return row ? [toHit(row, score)] : []
      })
    } finally {
      this.#db.exec('COMMIT')
    }
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT vec_version()').get()
  }

  async close(): Promise<void> {
    closeDatabase(this.#db)
  }
}
