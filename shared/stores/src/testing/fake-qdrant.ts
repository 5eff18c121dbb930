// A stand-in for Qdrant's REST API, on loopback, for tests that check what the Qdrant adapter
// sends. Qdrant cannot run on this machine (no Docker), so the adapter's real conformance run
// happens in CI; this fake only answers the calls the adapter makes, in Qdrant's envelope, and
// keeps points in memory so a round trip gives plausible results. It is not Qdrant: scoring is
// brute force (sparse dot product with Qdrant's IDF formula, cosine, RRF), and anything else
// answers 400 "not supported by the fake".
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * One HTTP request the fake received, as sent.
 *
 * @example
 * const upsert: FakeQdrantRequest = { method: 'PUT', path: '/collections/c/points', query: { wait: 'true' }, body: { points: [] } }
 */
export interface FakeQdrantRequest {
  method: string
  /** The path without the query string, e.g. `/collections/chunks/points`. */
  path: string
  /** The query string's parameters, e.g. `{ wait: 'true' }`. */
  query: Record<string, string>
  /** The parsed JSON body; undefined when there was none. */
  body: unknown
}

/**
 * A started fake; see `startFakeQdrant`.
 *
 * @example
 * const puts = qdrant.requests.filter((request) => request.method === 'PUT')
 */
export interface RunningFakeQdrant {
  /** `http://127.0.0.1:<port>`. */
  url: string
  /** Every request received so far, in order of arrival. */
  requests: FakeQdrantRequest[]
  /** Stops the server, dropping open keep-alive connections. */
  close(): Promise<void>
}

interface SparseVector {
  indices: number[]
  values: number[]
}

type StoredVector = number[] | SparseVector

interface Point {
  id: string | number
  vector: Record<string, StoredVector>
  payload: Record<string, unknown>
}

interface Collection {
  vectors: Record<string, { size: number; distance: string }>
  sparseVectors: Record<string, { modifier?: string }>
  payloadSchema: Record<string, string>
  points: Map<string, Point>
}

interface Scored {
  point: Point
  score: number
}

type Json = Record<string, unknown>

/** An error answered with Qdrant's error envelope. */
class QdrantError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const asList = (value: unknown): unknown[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]
const isSparse = (value: unknown): value is SparseVector =>
  isObject(value) && Array.isArray(value.indices) && Array.isArray(value.values)
const unsupported = (what: string) => new QdrantError(400, `Not supported by the fake Qdrant: ${what}`)

/** Numbers compare as numbers; RFC 3339 strings as instants (what a datetime range does). */
function comparable(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (typeof value === 'string') {
    const time = Date.parse(value)
    return Number.isNaN(time) ? undefined : time
  }
  return undefined
}

function conditionHolds(point: Point, condition: unknown): boolean {
  if (!isObject(condition)) throw unsupported(`condition ${JSON.stringify(condition)}`)
  if ('must' in condition || 'should' in condition || 'must_not' in condition) return filterHolds(point, condition)
  if ('has_id' in condition) return asList(condition.has_id).map(String).includes(String(point.id))
  const value = point.payload[String(condition.key)]
  const match = condition.match
  if (isObject(match)) {
    if ('value' in match) return value === match.value
    if ('any' in match) return asList(match.any).includes(value)
    throw unsupported(`match ${JSON.stringify(match)}`)
  }
  const range = condition.range
  if (isObject(range)) {
    const actual = comparable(value)
    if (actual === undefined) return false
    const bound = (name: string) =>
      range[name] === undefined || range[name] === null ? undefined : comparable(range[name])
    const [gt, gte, lt, lte] = ['gt', 'gte', 'lt', 'lte'].map(bound)
    return (
      (gt === undefined || actual > gt) &&
      (gte === undefined || actual >= gte) &&
      (lt === undefined || actual < lt) &&
      (lte === undefined || actual <= lte)
    )
  }
  throw unsupported(`condition ${JSON.stringify(condition)}`)
}

function filterHolds(point: Point, filter: unknown): boolean {
  if (filter === undefined || filter === null) return true
  if (!isObject(filter)) throw new QdrantError(400, 'Format error in JSON body: filter must be an object')
  const should = asList(filter.should)
  return (
    asList(filter.must).every((condition) => conditionHolds(point, condition)) &&
    (should.length === 0 || should.some((condition) => conditionHolds(point, condition))) &&
    !asList(filter.must_not).some((condition) => conditionHolds(point, condition))
  )
}

/** Qdrant's IDF modifier: ln((N − n + 0.5) / (n + 0.5) + 1), N points with the vector, n of them holding the index. */
function idf(collection: Collection, using: string, index: number): number {
  let total = 0
  let holding = 0
  for (const point of collection.points.values()) {
    const vector = point.vector[using]
    if (!isSparse(vector)) continue
    total++
    const at = vector.indices.indexOf(index)
    if (at !== -1 && vector.values[at] !== 0) holding++
  }
  return Math.log((total - holding + 0.5) / (holding + 0.5) + 1)
}

const cosine = (a: number[], b: number[]): number => {
  let dot = 0
  let normA = 0
  let normB = 0
  a.forEach((x, i) => {
    const y = b[i] ?? 0
    dot += x * y
    normA += x * x
    normB += y * y
  })
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB)
}

const byScore = (list: Scored[]): Scored[] => list.sort((a, b) => b.score - a.score)

/** One nearest-neighbour search over `using`: what a leaf prefetch, or a query without prefetch, does. */
function nearest(collection: Collection, request: Json): Scored[] {
  const using = typeof request.using === 'string' ? request.using : ''
  const limit = typeof request.limit === 'number' ? request.limit : 10
  const query = request.query
  const results: Scored[] = []
  if (isSparse(query)) {
    const config = collection.sparseVectors[using]
    if (!config) throw new QdrantError(400, `Wrong input: Not existing vector name error: ${using}`)
    const weights = query.indices.map(
      (index, i) => (query.values[i] ?? 0) * (config.modifier === 'idf' ? idf(collection, using, index) : 1),
    )
    for (const point of collection.points.values()) {
      const vector = point.vector[using]
      if (!isSparse(vector) || !filterHolds(point, request.filter)) continue
      let score = 0
      let overlaps = false
      query.indices.forEach((index, i) => {
        const at = vector.indices.indexOf(index)
        if (at === -1) return
        overlaps = true
        score += weights[i]! * (vector.values[at] ?? 0)
      })
      // Like Qdrant's inverted index: only points sharing an index with the query are candidates.
      if (overlaps) results.push({ point, score })
    }
  } else if (Array.isArray(query) && query.every((x) => typeof x === 'number')) {
    const config = collection.vectors[using]
    if (!config) throw new QdrantError(400, `Wrong input: Not existing vector name error: ${using}`)
    if (query.length !== config.size)
      throw new QdrantError(
        400,
        `Wrong input: Vector dimension error: expected dim: ${config.size}, got ${query.length}`,
      )
    for (const point of collection.points.values()) {
      const vector = point.vector[using]
      if (!Array.isArray(vector) || !filterHolds(point, request.filter)) continue
      results.push({ point, score: cosine(query, vector) })
    }
  } else {
    throw unsupported(`query ${JSON.stringify(query)}`)
  }
  return byScore(results).slice(0, limit)
}

/** Qdrant's RRF: Σ 1 / (k + rank), ranks from 0, k = 2. */
function reciprocalRankFusion(lists: Scored[][], k = 2): Scored[] {
  const fused = new Map<string, Scored>()
  for (const list of lists) {
    list.forEach(({ point }, rank) => {
      const key = String(point.id)
      const entry = fused.get(key) ?? { point, score: 0 }
      entry.score += 1 / (k + rank)
      fused.set(key, entry)
    })
  }
  return byScore([...fused.values()])
}

function runQuery(collection: Collection, request: Json): Scored[] {
  const prefetches = asList(request.prefetch)
  if (prefetches.length === 0) return nearest(collection, request)
  const query = request.query
  if (!isObject(query) || query.fusion !== 'rrf') throw unsupported(`query ${JSON.stringify(query)} over prefetches`)
  if (request.using !== undefined)
    throw new QdrantError(400, "Fusion queries cannot be combined with the 'using' field.")
  const lists = prefetches.map((prefetch) => {
    if (!isObject(prefetch)) throw new QdrantError(400, 'Format error in JSON body: prefetch must be an object')
    return runQuery(collection, prefetch)
  })
  const limit = typeof request.limit === 'number' ? request.limit : 10
  return reciprocalRankFusion(lists)
    .filter(({ point }) => filterHolds(point, request.filter))
    .slice(0, limit)
}

function storePoint(collection: Collection, raw: unknown): Point {
  if (!isObject(raw) || (typeof raw.id !== 'string' && typeof raw.id !== 'number') || !isObject(raw.vector)) {
    throw unsupported(`point ${JSON.stringify(raw)?.slice(0, 200)} (only named vectors)`)
  }
  const vector: Record<string, StoredVector> = {}
  for (const [name, value] of Object.entries(raw.vector)) {
    if (isSparse(value)) {
      if (!collection.sparseVectors[name])
        throw new QdrantError(400, `Wrong input: Not existing vector name error: ${name}`)
      if (value.indices.length !== value.values.length || new Set(value.indices).size !== value.indices.length) {
        throw new QdrantError(
          400,
          `Validation error in JSON body: sparse vector ${name} must have unique indices, one value each`,
        )
      }
      vector[name] = { indices: [...value.indices], values: [...value.values] }
    } else if (Array.isArray(value)) {
      const config = collection.vectors[name]
      if (!config) throw new QdrantError(400, `Wrong input: Not existing vector name error: ${name}`)
      if (value.length !== config.size)
        throw new QdrantError(
          400,
          `Wrong input: Vector dimension error: expected dim: ${config.size}, got ${value.length}`,
        )
      vector[name] = value.map(Number)
    } else {
      throw unsupported(`vector ${name}`)
    }
  }
  return { id: raw.id, vector, payload: isObject(raw.payload) ? structuredClone(raw.payload) : {} }
}

function collectionInfo(collection: Collection): Json {
  return {
    status: 'green',
    optimizer_status: 'ok',
    points_count: collection.points.size,
    segments_count: 1,
    config: {
      params: {
        vectors: collection.vectors,
        sparse_vectors: collection.sparseVectors,
        shard_number: 1,
        replication_factor: 1,
      },
    },
    payload_schema: Object.fromEntries(
      Object.entries(collection.payloadSchema).map(([field, type]) => [
        field,
        {
          data_type: type,
          points: [...collection.points.values()].filter((point) => point.payload[field] !== undefined).length,
        },
      ]),
    ),
  }
}

const updated = (operationId: number) => ({ operation_id: operationId, status: 'completed' })

/**
 * Starts the fake on 127.0.0.1 with a random port. It answers `GET /`, collection exists / get /
 * create, create payload index, upsert points, delete points (by filter or ids), count, and
 * query (a vector, or prefetches fused with `{ fusion: 'rrf' }`).
 *
 * @example
 * const qdrant = await startFakeQdrant()
 * const chunks = new QdrantChunkIndex({ url: qdrant.url, collection: 'test', dimensions: 4 })
 * await chunks.replaceVideoChunks('abc', records)
 * qdrant.requests.at(-1) // { method: 'POST', path: '/collections/test/points/delete', query: { wait: 'true' }, body: { filter: … } }
 * await qdrant.close()
 */
export async function startFakeQdrant(): Promise<RunningFakeQdrant> {
  const collections = new Map<string, Collection>()
  const requests: FakeQdrantRequest[] = []
  let operationId = 0

  const handle = (method: string, path: string, body: unknown): { status: number; result: unknown } => {
    if (method === 'GET' && path === '/')
      return { status: 200, result: { title: 'qdrant - vector search engine (fake)', version: '1.15.0' } }
    const match = /^\/collections\/([^/]+)(\/.*)?$/.exec(path)
    if (!match) throw new QdrantError(404, `Not found: ${path}`)
    const name = decodeURIComponent(match[1]!)
    const rest = match[2] ?? ''
    const collection = collections.get(name)
    const json: Json = isObject(body) ? body : {}

    if (method === 'GET' && rest === '/exists') return { status: 200, result: { exists: collection !== undefined } }
    if (method === 'PUT' && rest === '') {
      if (collection) throw new QdrantError(409, `Wrong input: Collection \`${name}\` already exists!`)
      const vectors = json.vectors ?? {}
      if (!isObject(vectors) || 'size' in vectors) throw unsupported('an unnamed vector (only named vectors)')
      collections.set(name, {
        vectors: structuredClone(vectors) as Collection['vectors'],
        sparseVectors: structuredClone(
          isObject(json.sparse_vectors) ? json.sparse_vectors : {},
        ) as Collection['sparseVectors'],
        payloadSchema: {},
        points: new Map(),
      })
      return { status: 200, result: true }
    }
    if (!collection) throw new QdrantError(404, `Not found: Collection \`${name}\` doesn't exist!`)

    if (method === 'GET' && rest === '') return { status: 200, result: collectionInfo(collection) }
    if (method === 'PUT' && rest === '/index') {
      const schema = isObject(json.field_schema) ? json.field_schema.type : json.field_schema
      if (typeof json.field_name !== 'string' || typeof schema !== 'string')
        throw new QdrantError(400, 'Format error in JSON body: field_name and field_schema are required')
      collection.payloadSchema[json.field_name] = schema
      return { status: 200, result: updated(++operationId) }
    }
    if (method === 'PUT' && rest === '/points') {
      if (!Array.isArray(json.points)) throw unsupported('a batch upsert (only `points`)')
      // Validate the whole request first: Qdrant rejects it as a whole.
      const points = json.points.map((raw) => storePoint(collection, raw))
      for (const point of points) collection.points.set(String(point.id), point)
      return { status: 200, result: updated(++operationId) }
    }
    if (method === 'POST' && rest === '/points/delete') {
      const selected =
        json.filter !== undefined
          ? [...collection.points.values()]
              .filter((point) => filterHolds(point, json.filter))
              .map((point) => String(point.id))
          : asList(json.points).map(String)
      for (const id of selected) collection.points.delete(id)
      return { status: 200, result: updated(++operationId) }
    }
    if (method === 'POST' && rest === '/points/count') {
      return {
        status: 200,
        result: { count: [...collection.points.values()].filter((point) => filterHolds(point, json.filter)).length },
      }
    }
    if (method === 'POST' && rest === '/points/query') {
      const points = runQuery(collection, json).map(({ point, score }) => ({
        id: point.id,
        version: 0,
        score,
        ...(json.with_payload === true ? { payload: structuredClone(point.payload) } : {}),
      }))
      return { status: 200, result: { points } }
    }
    throw new QdrantError(404, `Not supported by the fake Qdrant: ${method} ${path}`)
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const started = performance.now()
      const url = new URL(req.url ?? '/', 'http://fake')
      const text = Buffer.concat(chunks).toString('utf8')
      const record: FakeQdrantRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: undefined,
      }
      requests.push(record)
      let status: number
      let payload: unknown
      try {
        if (text) {
          try {
            record.body = JSON.parse(text)
          } catch {
            throw new QdrantError(400, 'Format error in JSON body: not JSON')
          }
        }
        const answer = handle(record.method, record.path, record.body)
        status = answer.status
        const time = (performance.now() - started) / 1000
        // `GET /` has no envelope in Qdrant either.
        payload = record.path === '/' ? answer.result : { result: answer.result, status: 'ok', time }
      } catch (error) {
        status = error instanceof QdrantError ? error.status : 500
        payload = {
          status: { error: error instanceof Error ? error.message : String(error) },
          time: (performance.now() - started) / 1000,
        }
      }
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(payload))
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        // The client's keep-alive sockets would hold close() open until they time out.
        server.closeAllConnections()
      })
      return closed
    },
  }
}
