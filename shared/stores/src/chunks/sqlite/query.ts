// One search of the embedded chunk index, as SQL over one connection: the main connection when
// the index searches in its own thread, a reader thread's read-only connection otherwise
// (./reader.ts). Both run this same function, so where a search runs never changes its result.
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite'
import { EmbeddingDimensionError } from '../embedding-size/index.ts'
import { reciprocalRankFusion } from '../fusion/index.ts'
import { ftsQueryOf, quote } from '../query/index.ts'
import { expandUnknownTerms, type QueryTerm } from '../text-analysis/index.ts'
import type { ChapterRef, ChunkHit, ChunkSentence, SearchFilter } from '../../ports.ts'
import { asInteger, optionalString } from '../../sqlite/index.ts'

/** sqlite-vec refuses a KNN query with k above this. */
const MAX_KNN = 4096

/**
 * A search as the thread that runs it gets it: the question already read (`analyzeQuery`), so
 * the thread asks its own connection which words the index has, widens those it lacks
 * (`expandUnknownTerms`) and builds the MATCH expression (../query).
 *
 * @example
 * const plan: SearchPlan = { terms: analyzeQuery('how does caching work'), limit: 8, weights: [1, 0.5, 0.5], rrfK: 60 }
 */
export interface SearchPlan {
  /** The question's words with their forms; none when the text has no word. */
  terms: QueryTerm[]
  embedding?: number[]
  limit: number
  filter?: SearchFilter
  /** BM25 weights of the FTS5 columns: text, title, chapter. */
  weights: readonly [text: number, title: number, chapter: number]
  rrfK: number
}

type Row = Record<string, unknown>

/**
 * Each connection's statements, prepared on first use and kept: the SQL of a search takes few
 * shapes (filters vary only in which clauses they have), and preparing an FTS5 query on every
 * search cost as much as a short search itself.
 */
const statements = new WeakMap<DatabaseSync, Map<string, StatementSync>>()
function prepare(db: DatabaseSync, sql: string): StatementSync {
  let cache = statements.get(db)
  if (!cache) {
    cache = new Map()
    statements.set(db, cache)
  }
  let statement = cache.get(sql)
  if (!statement) {
    statement = db.prepare(sql)
    cache.set(sql, statement)
  }
  return statement
}

type Ranked = { rowid: number; score: number }

export const toFloat32Blob = (vector: number[]): Uint8Array => {
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
  if (chapter !== undefined) hit.chapter = JSON.parse(chapter) as ChapterRef
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

/** The embedding size the file stores, read on each use: another process may have created the vectors table. */
export function storedDimensions(db: DatabaseSync): number | undefined {
  const row = prepare(db, `SELECT value FROM meta WHERE key = 'dimensions'`).get()
  return row ? Number(row.value) : undefined
}

/** Each connection's answers so far, valid while its index is as it was when they were asked. */
const heldCache = new WeakMap<DatabaseSync, { version: string; held: Map<string, boolean> }>()
/** Past this many words a connection's answers are dropped and asked again. */
const MAX_HELD_CACHE = 50_000

/**
 * The words some chunk holds (its text, title or chapter): one lookup of the word's term in the
 * FTS5 index each, stopped at the first row (~20 µs a word at 10k chunks, ~100 µs at 100k: see
 * `existence` in apps/bench/search.ts). Answers are kept per connection while the file is
 * unchanged: `data_version` moves when another connection commits, `total_changes()` when this
 * one writes, so a word a new chunk says, or that a deleted one took away, is asked again.
 */
export function heldWords(db: DatabaseSync, words: readonly string[]): Set<string> {
  const row = prepare(db, 'SELECT data_version AS version, total_changes() AS changes FROM pragma_data_version').get()!
  const version = `${row.version}:${row.changes}`
  let cache = heldCache.get(db)
  if (!cache || cache.version !== version || cache.held.size > MAX_HELD_CACHE) {
    cache = { version, held: new Map() }
    heldCache.set(db, cache)
  }
  const exists = prepare(db, 'SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT 1')
  const held = new Set<string>()
  for (const word of words) {
    let known = cache.held.get(word)
    if (known === undefined) {
      known = exists.get(quote(word)) !== undefined
      cache.held.set(word, known)
    }
    if (known) held.add(word)
  }
  return held
}

/** How many more top matches than needed a filtered search ranks inside FTS5 before it looks at the filter. */
const FILTER_PROBE_FACTOR = 8

/**
 * The most rowid ranges a search filtered to videos is split into: each range is one FTS5 query,
 * and each works out the words' weights (a pass over each word's whole posting list) again.
 */
const MAX_VIDEO_RANGES = 4

/**
 * The rowid ranges that hold the chunks of the filter's videos, or undefined when they are too
 * many or too spread out to be worth searching one by one. A video's chunks are written in one
 * transaction (`replaceVideoChunks`), so they take consecutive rowids and each video is one range;
 * ranges that touch are joined. A range is only where to look: the filter itself is still applied.
 */
function videoRanges(db: DatabaseSync, videoIds: readonly string[]): [number, number][] | undefined {
  const rows = prepare(
    db,
    `SELECT min(rowid) AS low, max(rowid) AS high, count(*) AS chunks FROM chunks
       WHERE video_id IN (SELECT value FROM json_each(?)) GROUP BY video_id ORDER BY low`,
  ).all(JSON.stringify(videoIds))
  const ranges: [number, number][] = []
  let span = 0
  let chunks = 0
  for (const row of rows) {
    const [low, high] = [Number(row.low), Number(row.high)]
    chunks += Number(row.chunks)
    const last = ranges.at(-1)
    if (last && low <= last[1] + 1) last[1] = Math.max(last[1], high)
    else ranges.push([low, high])
  }
  for (const [low, high] of ranges) span += high - low + 1
  // A video re-indexed in pieces by an older build could spread over the whole table.
  if (ranges.length > MAX_VIDEO_RANGES || span > 4 * chunks + 1000) return undefined
  return ranges
}

/**
 * The BM25 list: the best `candidates` matches by rank. The top k are ranked inside FTS5 and
 * only then joined with `chunks`: joining every match before sorting cost ~1.7x a bare FTS5
 * query. A filter needs the chunk's columns; it is first tried on a larger top k ranked the
 * same way, which gives the exact answer whenever enough of those pass (no chunk outside them
 * can outrank them). A filter to a few videos searches only their rowids instead. Only another
 * narrow filter, which few of the best matches pass, joins every match.
 */
function textRanked(db: DatabaseSync, plan: SearchPlan, match: string | undefined, candidates: number): Ranked[] {
  if (!match) return []
  const where = filterSql(plan.filter)
  const [text, title, chapter] = plan.weights
  const topInFts = (k: number) =>
    prepare(
      db,
      `SELECT rowid, bm25(chunks_fts, ?, ?, ?) AS rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank, rowid LIMIT ?`,
    ).all(text, title, chapter, match, asInteger(k))
  // SQLite's bm25() is negative, lower is better; negate it so a higher score is better.
  const toRanked = (rows: Row[]) => rows.map((row) => ({ rowid: Number(row.rowid), score: -Number(row.rank) }))
  if (!where.sql) return toRanked(topInFts(candidates))

  // Filtered to a few videos: each video's rowids are searched alone, inside FTS5, which skips
  // the rest of every posting list; ranking every match first cost ~2.7x an unfiltered search.
  const ranges = plan.filter?.videoIds?.length ? videoRanges(db, plan.filter.videoIds) : undefined
  if (ranges) {
    const ranked = prepare(
      db,
      `SELECT c.rowid AS rowid, bm25(chunks_fts, ?, ?, ?) AS rank
         FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid
         WHERE chunks_fts MATCH ? AND chunks_fts.rowid BETWEEN ? AND ? AND ${where.sql}
         ORDER BY rank, c.rowid LIMIT ?`,
    )
    // BM25's word weights and lengths are the whole index's in every range, so ranks compare.
    const rows = ranges
      .flatMap(([low, high]) =>
        ranked.all(
          text,
          title,
          chapter,
          match,
          asInteger(low),
          asInteger(high),
          ...where.params,
          asInteger(candidates),
        ),
      )
      .sort((a, b) => Number(a.rank) - Number(b.rank) || Number(a.rowid) - Number(b.rowid))
    return toRanked(rows.slice(0, candidates))
  }
  const probeSize = candidates * FILTER_PROBE_FACTOR
  const probe = topInFts(probeSize)
  const passing = new Set(
    prepare(
      db,
      `SELECT c.rowid AS rowid FROM chunks c WHERE c.rowid IN (SELECT value FROM json_each(?)) AND ${where.sql}`,
    )
      .all(JSON.stringify(probe.map((row) => Number(row.rowid))), ...where.params)
      .map((row) => Number(row.rowid)),
  )
  // Every match was in the probe, or enough of the probe passed: the probe's order is the answer.
  if (probe.length < probeSize || passing.size >= candidates) {
    return toRanked(probe.filter((row) => passing.has(Number(row.rowid)))).slice(0, candidates)
  }
  const rows = prepare(
    db,
    `SELECT c.rowid AS rowid, bm25(chunks_fts, ?, ?, ?) AS rank
       FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid
       WHERE chunks_fts MATCH ? AND ${where.sql}
       ORDER BY rank, c.rowid LIMIT ?`,
  ).all(text, title, chapter, match, ...where.params, asInteger(candidates))
  return toRanked(rows)
}

/**
 * The common search, BM25 alone and unfiltered, as one statement: the top `limit` ranked inside
 * FTS5, then joined with their rows only. One statement is its own snapshot, and it saves the
 * second statement, its JSON list of rowids and a transaction: ~0.1 ms of a ~0.8 ms search at
 * 10k chunks, most of what it cost over a bare FTS5 query.
 */
function textOnly(db: DatabaseSync, plan: SearchPlan, match: string): ChunkHit[] {
  const [text, title, chapter] = plan.weights
  return prepare(
    db,
    `SELECT r.rank AS rank, c.rowid AS rowid, c.*
       FROM (SELECT rowid, bm25(chunks_fts, ?, ?, ?) AS rank FROM chunks_fts
               WHERE chunks_fts MATCH ? ORDER BY rank, rowid LIMIT ?) r
       JOIN chunks c ON c.rowid = r.rowid
       ORDER BY r.rank, r.rowid`,
  )
    .all(text, title, chapter, match, asInteger(plan.limit))
    .map((row) => toHit(row, -Number(row.rank)))
}

/**
 * Runs one search on `db`. A question word no chunk has is widened first (`expandUnknownTerms`);
 * the hits then carry the terms searched for (`queryTerms`), so their moments say the words they
 * were found by. The lists and the rows come from one read transaction, so from the same
 * snapshot. Throws EmbeddingDimensionError for a query embedding of another size.
 *
 * @example
 * const hits = runSearch(db, { terms: analyzeQuery('how does caching work'), limit: 8, weights: [1, 0.5, 0.5], rrfK: 60 })
 */
export function runSearch(db: DatabaseSync, plan: SearchPlan): ChunkHit[] {
  const terms = expandUnknownTerms(plan.terms, (words) => heldWords(db, words))
  const hits = rankedHits(db, plan, ftsQueryOf(terms))
  if (terms.every((term, index) => term === plan.terms[index])) return hits
  const queryTerms = terms.map((term) => term.stems)
  return hits.map((hit) => ({ ...hit, queryTerms }))
}

function rankedHits(db: DatabaseSync, plan: SearchPlan, match: string | undefined): ChunkHit[] {
  const { embedding, limit } = plan
  // With two lists to fuse, enough candidates per list that a chunk ranked well by only one of
  // them survives fusion; BM25 alone needs its top `limit` only.
  const candidates = embedding ? Math.min(Math.max(limit * 5, 50), MAX_KNN) : limit
  if (!embedding && match && !filterSql(plan.filter).sql) return textOnly(db, plan, match)
  db.exec('BEGIN')
  try {
    const bm25 = textRanked(db, plan, match, candidates)
    const dimensions = embedding ? storedDimensions(db) : undefined
    let ranked: Ranked[]
    if (embedding && dimensions !== undefined) {
      if (embedding.length !== dimensions) {
        throw new EmbeddingDimensionError(
          `Query embedding has ${embedding.length} dimensions; this index stores ${dimensions}`,
        )
      }
      const where = filterSql(plan.filter)
      // The filter runs inside the KNN query (rowid IN …), so k counts matching chunks only.
      const params: SQLInputValue[] = [toFloat32Blob(embedding), asInteger(candidates)]
      const rows = prepare(
        db,
        `SELECT rowid, distance FROM chunk_vectors
           WHERE embedding MATCH ? AND k = ?
           ${where.sql ? `AND rowid IN (SELECT c.rowid FROM chunks c WHERE ${where.sql})` : ''}
           ORDER BY distance`,
      ).all(...params, ...where.params)
      const vectorRanked = rows.map((row) => ({ rowid: Number(row.rowid), score: 0 }))
      ranked = reciprocalRankFusion([bm25, vectorRanked], (item) => String(item.rowid), plan.rrfK)
        .slice(0, limit)
        .map(({ item, score }) => ({ rowid: item.rowid, score }))
    } else {
      ranked = bm25.slice(0, limit)
    }
    if (ranked.length === 0) return []

    const rows = prepare(
      db,
      'SELECT c.rowid AS rowid, c.* FROM chunks c WHERE c.rowid IN (SELECT value FROM json_each(?))',
    ).all(JSON.stringify(ranked.map((item) => item.rowid)))
    const byRowid = new Map(rows.map((row) => [Number(row.rowid), row]))
    return ranked.flatMap(({ rowid, score }) => {
      const row = byRowid.get(rowid)
      return row ? [toHit(row, score)] : []
    })
  } finally {
    db.exec('COMMIT')
  }
}
