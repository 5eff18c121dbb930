// Which adapter serves each port is decided here, once, from the configuration. Each adapter is
// imported only when it is selected: the MongoDB, S3 and Qdrant clients are megabytes of
// JavaScript that a function on the embedded stores would otherwise read at every start (a
// function's bundle makes each of these `import()`s a chunk of its own).
import type { Config } from '@ytrag/config'
import type { EmbeddingSize } from '../chunks/embedding-size/index.ts'
import type { BlobStore, ChunkIndex, DocumentStore, Stores } from '../ports.ts'

export interface OpenStoresOptions {
  /**
   * The dense embedding size, when an embedding provider is configured: a number, or how to
   * learn it, which only an index that needs it before its first vector asks (Qdrant, when it
   * makes its collection on first use; the embedded index learns it from the first vector).
   */
  dimensions?: EmbeddingSize
  /** Secrets the config does not hold: `QDRANT_API_KEY`. Default `process.env`. */
  env?: Record<string, string | undefined>
}

/** Each port's adapter, as the configuration names it: the readiness check reports it. */
export interface StoreProviders {
  documents: Config['documentDb']['provider']
  chunks: Config['vectorDb']['provider']
  blobs: Config['blobStorage']['provider']
}

type Closable = { close?(): Promise<void> }

/**
 * A store that is down must not stop a function from starting: Knative keeps it out of
 * rotation through `/health/ready` until the store answers. So a server's first answer is
 * awaited briefly, and a probe never hangs for the driver's default 30 seconds.
 */
const MONGO_CLIENT_OPTIONS = { serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 5_000 }

async function documentStore(config: Config): Promise<DocumentStore> {
  const { provider, uri, host, port, name } = config.documentDb
  if (provider === 'mongodb') {
    const { MongoDocumentStore } = await import('../documents/mongo/index.ts')
    const documents = new MongoDocumentStore({
      url: uri ?? `mongodb://${host}:${port}/`,
      database: name,
      clientOptions: MONGO_CLIENT_OPTIONS,
    })
    // Indexes are made in the background now, so the first event does not wait on them; a
    // store that is down is reported by readiness and retried by the first write, not fatal here.
    documents.init().catch(() => {})
    return documents
  }
  const { embeddedDocuments } = await import('../embedded/index.ts')
  return embeddedDocuments(config.storage.dir)
}

async function chunkIndex(config: Config, { dimensions, env = process.env }: OpenStoresOptions): Promise<ChunkIndex> {
  const { provider, url, host, port, collection, apiKey, languages, searchThreads } = config.vectorDb
  if (provider === 'qdrant') {
    const { QdrantChunkIndex } = await import('../chunks/qdrant/index.ts')
    const key = apiKey ?? env.QDRANT_API_KEY
    return new QdrantChunkIndex({
      url: url ?? `http://${host}:${port}`,
      collection,
      languages,
      ...(dimensions === undefined ? {} : { dimensions }),
      ...(key ? { apiKey: key } : {}),
    })
  }
  const { embeddedChunks } = await import('../embedded/index.ts')
  // The embedded index learns the size from the first vector it stores: nothing to ask.
  return embeddedChunks(config.storage.dir, {
    ...(typeof dimensions === 'number' ? { dimensions } : {}),
    languages,
    searchThreads,
  })
}

async function blobStore(config: Config): Promise<BlobStore> {
  const { provider, endpoint, region, bucket, forcePathStyle, accessKeyId, secretAccessKey } = config.blobStorage
  if (provider === 's3') {
    const { S3BlobStore } = await import('../blobs/s3/index.ts')
    return new S3BlobStore({
      bucket,
      region,
      forcePathStyle,
      ...(endpoint ? { endpoint } : {}),
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    })
  }
  const { embeddedBlobs } = await import('../embedded/index.ts')
  return embeddedBlobs(config.storage.dir)
}

/**
 * Opens the stores the configuration selects (`DOCUMENT_DB__PROVIDER`, `VECTOR_DB__PROVIDER`,
 * `BLOB_STORAGE__PROVIDER`), importing only their adapters; the defaults are the embedded ones
 * under `STORAGE__DIR`. Remote stores connect lazily and make their indexes, collection or
 * bucket on first use.
 *
 * @example
 * const stores = await openStores(loadConfig(process.env), { dimensions: providers.embeddings?.dimensions })
 * await stores.documents.getJob(jobId)
 * await stores.close()
 */
export async function openStores(
  config: Config,
  options: OpenStoresOptions = {},
): Promise<Stores & { providers: StoreProviders }> {
  // Side by side: one adapter's module is read while another's is.
  const [documents, chunks, blobs] = await Promise.allSettled([
    documentStore(config),
    chunkIndex(config, options),
    blobStore(config),
  ])
  const opened = [documents, chunks, blobs].flatMap((result) =>
    result.status === 'fulfilled' ? [result.value as Closable] : [],
  )
  const close = async () => {
    await Promise.all(opened.map((store) => store.close?.()))
  }
  if (documents.status === 'rejected' || chunks.status === 'rejected' || blobs.status === 'rejected') {
    await close().catch(() => {})
    throw [documents, chunks, blobs].find((result) => result.status === 'rejected')!.reason
  }
  return {
    documents: documents.value,
    chunks: chunks.value,
    blobs: blobs.value,
    providers: {
      documents: config.documentDb.provider,
      chunks: config.vectorDb.provider,
      blobs: config.blobStorage.provider,
    },
    close,
  }
}
