// The chunk index of production: one Qdrant collection, one point per chunk. Each point has a
// sparse vector `bm25` (BM25 computed here, with the embedded index's tokenizer and stemming;
// Qdrant's `modifier: idf` applies the IDF) and, when embeddings are configured, a dense
// vector `dense`. Search uses the Query API: both lists as prefetches, fused by RRF.
import { QdrantClient, type Schemas } from '@qdrant/js-client-rest'
import { assertLimit } from '../../limit/index.ts'
import type { ChunkHit, ChunkIndex, ChunkRecord, ChunkSearchQuery, ChunkSentence, SearchFilter } from '../../ports.ts'
import { addSparse, sparseDocumentVector, sparseQueryVector, type SparseVector } from '../sparse/index.ts'
// The same error class as the embedded index, so callers handle a model change the same way.
import { assertEmbeddingSize, EmbeddingDimensionError, type EmbeddingSize } from '../embedding-size/index.ts'
export { EmbeddingDimensionError }

/** Named vectors of the collection. Changing either orphans every stored point. */
const DENSE = 'dense'
const SPARSE = 'bm25'

/** Payload fields with an index: the ones SearchFilter and replace/delete filter on. */
const PAYLOAD_INDEXES = [
  ['videoId', 'keyword'],
  ['channelId', 'keyword'],
  ['publishedAt', 'datetime'],
] as const

/** Qdrant takes any number of points a request, but a request is held in memory whole: keep them small. */
const MAX_BATCH = 256

/**
 * Where the chunks live, and how they are stored.
 *
 * @example
 * const options: QdrantChunkIndexOptions = { url: 'http://qdrant:6333', apiKey: process.env.QDRANT_API_KEY, collection: 'youtube_rag_chunks', dimensions: 1536 }
 */
export interface QdrantChunkIndexOptions {
  /**
   * Qdrant's REST endpoint, e.g. `http://qdrant:6333`. Note that the client adds port 6333 to a
   * URL without one (`https://x.cloud.qdrant.io` means `:6333`); give the port when it differs.
   * Also used in error messages when `client` is given.
   */
  url: string
  /** Sent as the `api-key` header. */
  apiKey?: string | undefined
  /** The collection holding the chunks; created by `init()` when missing. */
  collection: string
  /**
   * The size of the dense embeddings, or how to learn it: asked once, by `init()`, so a probe
   * of the model (one embedding request) happens on first use, not at start-up. Omitted (or
   * learned as undefined), a new collection is sparse-only (BM25 alone), and an existing one is
   * used as it is (with its dense vector's size, if it has one).
   */
  dimensions?: EmbeddingSize | undefined
  /** A ready client (shared, or configured otherwise); `apiKey` and `timeoutMs` are then ignored. */
  client?: QdrantClient | undefined
  /** Points per upsert request, 1 to 256. Default 256. */
  batchSize?: number | undefined
  /** How much a title's words count next to the chunk's text in BM25. Default 0.5, as in the embedded index. */
  titleWeight?: number | undefined
  /**
   * How much the words of the chunk's chapter title count next to its text. Default 0.5, as in
   * the embedded index. Points stored before chapters counted carry none until re-indexed: they
   * are still found by their text and title, as before.
   */
  chapterWeight?: number | undefined
  /** Whose stop words a query drops (ISO 639-1 codes or tags). Default `['en']`, as in the embedded index. */
  languages?: readonly string[] | undefined
  /** How long one request may take. Default 30 000 ms. */
  timeoutMs?: number | undefined
}

/**
 * A Qdrant call failed; the message names the client call, collection and URL. The client's error is `cause`.
 *
 * @example
 * // QdrantChunkIndexError: Qdrant query for collection "chunks" at http://qdrant:6333 failed: HTTP 400: Wrong input: …
 * if (error instanceof QdrantChunkIndexError) log.error({ err: error.cause }, error.message)
 */
export class QdrantChunkIndexError extends Error {
  override name = 'QdrantChunkIndexError'
}

type QueryRequest = Parameters<QdrantClient['query']>[1]
type Filter = Schemas['Filter']
type Condition = Schemas['Condition']
type CollectionInfo = Schemas['CollectionInfo']
type ScoredPoint = Schemas['ScoredPoint']

interface ErrorLike {
  name?: string
  message?: string
  code?: string
  status?: number
  statusText?: string
  data?: { status?: { error?: string } | string }
  cause?: unknown
  errors?: unknown[]
}

/** One line for any failure: the HTTP status and Qdrant's own error text, or the network error's code. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const e = error as Error & ErrorLike
  if (typeof e.status === 'number') {
    const status = e.data?.status
    const detail =
      typeof status === 'object' && status?.error
        ? status.error
        : typeof status === 'string'
          ? status
          : e.statusText || e.message
    return `HTTP ${e.status}: ${detail}`
  }
  // fetch reports connection failures as "fetch failed" with the reason in `cause`.
  const cause = e.cause ? ` (${describe(e.cause)})` : ''
  const inner = !e.message && Array.isArray(e.errors) ? e.errors.map(describe).join('; ') : ''
  const code = e.code && !e.message.includes(e.code) ? ` ${e.code}` : ''
  return `${e.name}: ${e.message || inner || 'no message'}${code}${cause}`
}

/** Every ChunkRecord field but the embedding, and nothing undefined (the payload is stored as given). */
function toPayload(chunk: ChunkRecord): Record<string, unknown> {
  const { embedding: _embedding, ...fields } = chunk
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined))
}

function toHit(point: ScoredPoint): ChunkHit {
  const payload = (point.payload ?? {}) as Record<string, unknown>
  const hit: ChunkHit = {
    id: String(point.id),
    videoId: String(payload.videoId),
    chunkIndex: Number(payload.chunkIndex),
    title: String(payload.title ?? ''),
    url: String(payload.url ?? ''),
    start: Number(payload.start),
    end: Number(payload.end),
    text: String(payload.text ?? ''),
    score: point.score,
  }
  if (typeof payload.channelId === 'string') hit.channelId = payload.channelId
  if (typeof payload.publishedAt === 'string') hit.publishedAt = payload.publishedAt
  const chapter = payload.chapter as { title?: unknown; start?: unknown } | undefined
  if (chapter && typeof chapter.title === 'string' && typeof chapter.start === 'number')
    hit.chapter = { title: chapter.title, start: chapter.start }
  // Points stored before sentences were kept have none: the hit's moment is then its start.
  if (Array.isArray(payload.sentences)) hit.sentences = payload.sentences as ChunkSentence[]
  return hit
}

const byVideo = (videoId: string): Condition[] => [{ key: 'videoId', match: { value: videoId } }]

/** The search filter as Qdrant's. An empty list means "no filter on that field", as in every adapter. */
function toFilter(filter: SearchFilter | undefined): Filter | undefined {
  const must: Condition[] = []
  if (filter?.videoIds?.length) must.push({ key: 'videoId', match: { any: filter.videoIds } })
  if (filter?.channelIds?.length) must.push({ key: 'channelId', match: { any: filter.channelIds } })
  if (filter?.publishedAfter !== undefined) {
    if (Number.isNaN(Date.parse(filter.publishedAfter)))
      throw new RangeError(`publishedAfter must be an RFC 3339 date-time, got ${filter.publishedAfter}`)
    // A datetime range on the datetime-indexed field; a chunk without a date never matches it.
    must.push({ key: 'publishedAt', range: { gt: filter.publishedAfter } })
  }
  return must.length ? { must } : undefined
}

/** The dense vector's size in an existing collection: undefined without a named vector `dense`. */
function denseSizeOf(info: CollectionInfo): number | undefined {
  const vectors = info.config.params.vectors as Record<string, { size?: number } | undefined> | undefined
  const size = vectors?.[DENSE]?.size
  return typeof size === 'number' ? size : undefined
}

/**
 * The ChunkIndex of production: a Qdrant collection with a BM25 sparse vector and, when
 * `dimensions` is given, a dense vector; hybrid search fuses both with reciprocal rank fusion.
 *
 * The collection is made sure of once, lazily, before the first use (call `init()` to do it at
 * a chosen time). `ping()` only checks that Qdrant answers.
 *
 * @example
 * const chunks = new QdrantChunkIndex({ url: 'http://qdrant:6333', collection: 'youtube_rag_chunks', dimensions: 1536 })
 * await chunks.ping() // throws "Qdrant at http://qdrant:6333 …" when it cannot be used
 * await chunks.replaceVideoChunks(videoId, records)
 * const hits = await chunks.search({ text: 'how does caching work', embedding, limit: 8 })
 */
export class QdrantChunkIndex implements ChunkIndex {
  readonly collection: string
  readonly #client: QdrantClient
  readonly #url: string
  /** As given; a function is called by `init()`. */
  readonly #dimensions: EmbeddingSize | undefined
  readonly #batchSize: number
  readonly #titleWeight: number
  readonly #chapterWeight: number
  readonly #languages: readonly string[]
  /** The dense size in use, known once `init()` has read or made the collection. */
  #denseSize: number | undefined
  #ready: Promise<void> | undefined

  constructor({
    url,
    apiKey,
    collection,
    dimensions,
    client,
    batchSize = MAX_BATCH,
    titleWeight = 0.5,
    chapterWeight = 0.5,
    languages = ['en'],
    timeoutMs = 30_000,
  }: QdrantChunkIndexOptions) {
    if (!collection) throw new TypeError('QdrantChunkIndex: `collection` is required')
    if (typeof dimensions !== 'function') assertEmbeddingSize(dimensions)
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
      throw new RangeError(`batchSize must be an integer from 1 to ${MAX_BATCH}, got ${batchSize}`)
    }
    if (!(titleWeight >= 0)) throw new RangeError(`titleWeight must be 0 or more, got ${titleWeight}`)
    if (!(chapterWeight >= 0)) throw new RangeError(`chapterWeight must be 0 or more, got ${chapterWeight}`)
    this.collection = collection
    this.#url = url
    this.#dimensions = dimensions
    this.#denseSize = typeof dimensions === 'function' ? undefined : dimensions
    this.#batchSize = batchSize
    this.#titleWeight = titleWeight
    this.#chapterWeight = chapterWeight
    this.#languages = languages
    // checkCompatibility off: it is an unawaited GET / at construction that only warns on the
    // console (also whenever Qdrant is down at start-up); ping() is where reachability is checked.
    this.#client =
      client ?? new QdrantClient({ url, ...(apiKey ? { apiKey } : {}), timeout: timeoutMs, checkCompatibility: false })
  }

  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      throw new QdrantChunkIndexError(
        `Qdrant ${operation} for collection "${this.collection}" at ${this.#url} failed: ${describe(error)}`,
        { cause: error },
      )
    }
  }

  /**
   * Creates the collection unless it exists: named vectors `dense` (when `dimensions` is given
   * or learned; Cosine) and sparse `bm25` (IDF modifier), and keyword/datetime payload indexes
   * for the filters. Idempotent and safe to race. An existing collection is checked instead: a
   * `dense` size other than the `dimensions` number given is an EmbeddingDimensionError. Later
   * calls reuse the result.
   *
   * @example
   * await new QdrantChunkIndex({ url, collection: 'chunks', dimensions: 1536 }).init()
   */
  init(): Promise<void> {
    this.#ready ??= this.#createIfMissing().catch((error: unknown) => {
      // Not cached: Qdrant being down at the first call must not break every later one.
      this.#ready = undefined
      throw error
    })
    return this.#ready
  }

  /** The size given, or learned now: only when the collection is made. */
  async #wantedSize(): Promise<number | undefined> {
    if (typeof this.#dimensions !== 'function') return this.#dimensions
    const size = await this.#dimensions()
    assertEmbeddingSize(size, 'the learned embedding size')
    return size
  }

  async #createIfMissing(): Promise<void> {
    const client = this.#client
    let created = false
    if (!(await this.#call('collectionExists', () => client.collectionExists(this.collection))).exists) {
      const dimensions = await this.#wantedSize()
      try {
        await this.#call('createCollection', () =>
          client.createCollection(this.collection, {
            ...(dimensions === undefined ? {} : { vectors: { [DENSE]: { size: dimensions, distance: 'Cosine' } } }),
            sparse_vectors: { [SPARSE]: { modifier: 'idf' } },
          }),
        )
        created = true
        this.#denseSize = dimensions
      } catch (error) {
        // Another process made it between the check and the create (Qdrant answers 409): use theirs.
        if (!(await this.#call('collectionExists', () => client.collectionExists(this.collection))).exists) throw error
      }
    }

    let indexed: Record<string, unknown> = {}
    if (!created) {
      const info = await this.#call('getCollection', () => client.getCollection(this.collection))
      if (!info.config.params.sparse_vectors?.[SPARSE]) {
        throw new QdrantChunkIndexError(
          `Qdrant collection "${this.collection}" at ${this.#url} has no sparse vector "${SPARSE}": it was not made by this index`,
        )
      }
      const size = denseSizeOf(info)
      // A size given up front is checked now. One that would have to be learned is not asked
      // for: the collection's own is used, and an embedding of another size is refused when it comes.
      const given = typeof this.#dimensions === 'number' ? this.#dimensions : undefined
      if (given !== undefined && size !== given) {
        throw new EmbeddingDimensionError(
          `Qdrant collection "${this.collection}" holds ${size === undefined ? 'no' : `${size}-dimensional`} embeddings; the index was opened for ${given}`,
        )
      }
      this.#denseSize = size
      indexed = info.payload_schema
    }
    // Also after a crash between creating the collection and its indexes.
    for (const [field_name, field_schema] of PAYLOAD_INDEXES) {
      if (field_name in indexed) continue
      await this.#call(`createPayloadIndex ${field_name}`, () =>
        client.createPayloadIndex(this.collection, { field_name, field_schema, wait: true }),
      )
    }
  }

  #sparseVector(chunk: ChunkRecord): SparseVector {
    let vector = sparseDocumentVector(chunk.text)
    // b = 0: a title is short and the same on every chunk of the video (a chapter's on every
    // chunk of the chapter), so no length penalty.
    if (this.#titleWeight > 0)
      vector = addSparse(vector, sparseDocumentVector(chunk.title, { b: 0 }), this.#titleWeight)
    if (this.#chapterWeight > 0 && chunk.chapter)
      vector = addSparse(vector, sparseDocumentVector(chunk.chapter.title, { b: 0 }), this.#chapterWeight)
    return vector
  }

  /**
   * Upserts the chunks (their ids are deterministic, so a replay overwrites), then deletes the
   * video's points that are not among them. In that order a search never sees the video
   * without chunks while it is re-indexed.
   *
   * @example
   * await chunks.replaceVideoChunks('dQw4w9WgXcQ', records) // records[i].id = chunkId('dQw4w9WgXcQ', i)
   */
  async replaceVideoChunks(videoId: string, chunks: ChunkRecord[]): Promise<void> {
    const ids = new Set<string>()
    for (const chunk of chunks) {
      if (chunk.videoId !== videoId)
        throw new Error(`Chunk ${chunk.id} belongs to video ${chunk.videoId}, not ${videoId}`)
      if (ids.has(chunk.id)) throw new Error(`Chunk id ${chunk.id} appears twice for video ${videoId}`)
      ids.add(chunk.id)
    }
    await this.init()
    // Every chunk is checked before anything is written, so a bad one changes nothing.
    for (const chunk of chunks) {
      if (chunk.embedding === undefined) continue
      if (this.#denseSize === undefined) {
        throw new EmbeddingDimensionError(
          `Qdrant collection "${this.collection}" is sparse-only; create it with \`dimensions\` to store embeddings`,
        )
      }
      if (chunk.embedding.length !== this.#denseSize) {
        throw new EmbeddingDimensionError(
          `Chunk ${chunk.id} has a ${chunk.embedding.length}-dimensional embedding; this index stores ${this.#denseSize}`,
        )
      }
    }

    for (let start = 0; start < chunks.length; start += this.#batchSize) {
      const points = chunks.slice(start, start + this.#batchSize).map((chunk) => {
        const sparse = this.#sparseVector(chunk)
        return {
          id: chunk.id,
          vector: {
            ...(chunk.embedding ? { [DENSE]: chunk.embedding } : {}),
            // An empty sparse vector is left out: Qdrant's REST API can mistake one for another vector type.
            ...(sparse.indices.length ? { [SPARSE]: sparse } : {}),
          },
          payload: toPayload(chunk),
        }
      })
      await this.#call('upsert', () => this.#client.upsert(this.collection, { wait: true, points }))
    }

    const stale: Filter = { must: byVideo(videoId), ...(ids.size ? { must_not: [{ has_id: [...ids] }] } : {}) }
    await this.#call('delete', () => this.#client.delete(this.collection, { wait: true, filter: stale }))
  }

  /**
   * Deletes the video's chunks; returns how many there were.
   *
   * @example
   * await chunks.deleteVideo('dQw4w9WgXcQ') // 42
   */
  async deleteVideo(videoId: string): Promise<number> {
    await this.init()
    // Qdrant's delete does not say how many points it removed: count them first.
    const count = await this.countVideo(videoId)
    if (count === 0) return 0
    await this.#call('delete', () =>
      this.#client.delete(this.collection, { wait: true, filter: { must: byVideo(videoId) } }),
    )
    return count
  }

  /**
   * The video's number of chunks (an exact count).
   *
   * @example
   * await chunks.countVideo('dQw4w9WgXcQ') // 42
   */
  async countVideo(videoId: string): Promise<number> {
    await this.init()
    const { count } = await this.#call('count', () =>
      this.#client.count(this.collection, { filter: { must: byVideo(videoId) }, exact: true }),
    )
    return count
  }

  /**
   * BM25 alone (a sparse query on `bm25`) without an embedding; with one, the BM25 and dense
   * lists as prefetches fused by `{ fusion: 'rrf' }`. The filter goes into each prefetch, so
   * each list holds matching chunks only, and on the whole query.
   *
   * @example
   * await chunks.search({ text: 'how does caching work', embedding, limit: 8, filter: { channelIds: ['UC…'] } })
   */
  async search({ text, embedding, limit, filter }: ChunkSearchQuery): Promise<ChunkHit[]> {
    assertLimit(limit)
    const where = toFilter(filter)
    const sparse = sparseQueryVector(text, { languages: this.#languages })
    await this.init()
    // A sparse-only collection has no dense list to search: the embedding is ignored, as when no chunk has one.
    const dense = embedding && this.#denseSize !== undefined ? embedding : undefined
    if (dense && dense.length !== this.#denseSize) {
      throw new EmbeddingDimensionError(
        `Query embedding has ${dense.length} dimensions; this index stores ${this.#denseSize}`,
      )
    }
    if (sparse.indices.length === 0 && !dense) return []

    // Enough candidates per list that a chunk ranked well by only one of them survives fusion.
    const candidates = Math.max(limit, Math.min(Math.max(limit * 5, 50), 1000))
    const withFilter = where ? { filter: where } : {}
    let request: QueryRequest
    if (dense) {
      const prefetch: NonNullable<QueryRequest['prefetch']> = []
      if (sparse.indices.length) prefetch.push({ query: sparse, using: SPARSE, limit: candidates, ...withFilter })
      prefetch.push({ query: dense, using: DENSE, limit: candidates, ...withFilter })
      request = { prefetch, query: { fusion: 'rrf' }, ...withFilter, limit, with_payload: true }
    } else {
      request = { query: sparse, using: SPARSE, ...withFilter, limit, with_payload: true }
    }
    const { points } = await this.#call('query', () => this.#client.query(this.collection, request))
    return points.map(toHit)
  }

  /**
   * Throws when Qdrant does not answer (or refuses the API key); a missing collection is fine, `init()` makes it.
   *
   * @example
   * await chunks.ping() // QdrantChunkIndexError: Qdrant at http://qdrant:6333 cannot be used: TypeError: fetch failed (…ECONNREFUSED…)
   */
  async ping(): Promise<void> {
    try {
      await this.#client.collectionExists(this.collection)
    } catch (error) {
      throw new QdrantChunkIndexError(`Qdrant at ${this.#url} cannot be used: ${describe(error)}`, { cause: error })
    }
  }

  /** Nothing to release: the client holds no connection beyond fetch's keep-alive pool. */
  async close(): Promise<void> {}
}
