// Which adapter serves each port is decided here, once, from the configuration.
import type { Config } from '@ytrag/config'
import { embeddedBlobs, embeddedChunks, embeddedDocuments } from '../embedded/index.ts'
import { MongoDocumentStore } from '../mongo-documents/index.ts'
import type { BlobStore, ChunkIndex, DocumentStore, Stores } from '../ports.ts'
import { QdrantChunkIndex } from '../qdrant-chunks/index.ts'
import { S3BlobStore } from '../s3-blobs/index.ts'

export interface OpenStoresOptions {
  /** The dense embedding size, when an embedding provider is configured (Qdrant makes its collection with it). */
  dimensions?: number
  /** Secrets the config does not hold: `QDRANT_API_KEY`. Default `process.env`. */
  env?: Record<string, string | undefined>
}

/** Each port's adapter, as the configuration names it: the readiness check reports it. */
export interface StoreProviders {
  documents: Config['documentDb']['provider']
  chunks: Config['vectorDb']['provider']
  blobs: Config['blobStorage']['provider']
}

/**
 * A store that is down must not stop a function from starting: Knative keeps it out of
 * rotation through `/health/ready` until the store answers. So a server's first answer is
 * awaited briefly, and a probe never hangs for the driver's default 30 seconds.
 */
const MONGO_CLIENT_OPTIONS = { serverSelectionTimeoutMS: 5_000, connectTimeoutMS: 5_000 }

function documentStore(config: Config): DocumentStore {
  const { provider, uri, host, port, name } = config.documentDb
  if (provider === 'mongodb') {
    return new MongoDocumentStore({ url: uri ?? `mongodb://${host}:${port}/`, database: name, clientOptions: MONGO_CLIENT_OPTIONS })
  }
  return embeddedDocuments(config.storage.dir)
}

function chunkIndex(config: Config, { dimensions, env = process.env }: OpenStoresOptions): ChunkIndex {
  const { provider, url, host, port, collection, apiKey } = config.vectorDb
  const withDimensions = dimensions === undefined ? {} : { dimensions }
  if (provider === 'qdrant') {
    const key = apiKey ?? env.QDRANT_API_KEY
    return new QdrantChunkIndex({ url: url ?? `http://${host}:${port}`, collection, ...withDimensions, ...(key ? { apiKey: key } : {}) })
  }
  return embeddedChunks(config.storage.dir, dimensions)
}

function blobStore(config: Config): BlobStore & { close?(): Promise<void> } {
  const { provider, endpoint, region, bucket, forcePathStyle, accessKeyId, secretAccessKey } = config.blobStorage
  if (provider === 's3') {
    return new S3BlobStore({
      bucket,
      region,
      forcePathStyle,
      ...(endpoint ? { endpoint } : {}),
      ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    })
  }
  return embeddedBlobs(config.storage.dir)
}

/**
 * Opens the stores the configuration selects (`DOCUMENT_DB__PROVIDER`, `VECTOR_DB__PROVIDER`,
 * `BLOB_STORAGE__PROVIDER`); the defaults are the embedded ones under `STORAGE__DIR`. Remote
 * stores connect lazily and make their indexes, collection or bucket on first use.
 *
 * @example
 * const stores = openStores(loadConfig(process.env), { dimensions: providers.embeddings?.dimensions })
 * await stores.documents.getJob(jobId)
 * await stores.close()
 */
export function openStores(config: Config, options: OpenStoresOptions = {}): Stores & { providers: StoreProviders } {
  const opened: { close?(): Promise<void> }[] = []
  try {
    const documents = documentStore(config)
    opened.push(documents)
    const chunks = chunkIndex(config, options)
    opened.push(chunks)
    const blobs = blobStore(config)
    opened.push(blobs)
    if (documents instanceof MongoDocumentStore) {
      // Indexes are made now so the first event does not wait on them; a store that is down is
      // reported by readiness and retried by the first write, not fatal here.
      documents.init().catch(() => {})
    }
    return {
      documents,
      chunks,
      blobs,
      providers: { documents: config.documentDb.provider, chunks: config.vectorDb.provider, blobs: config.blobStorage.provider },
      async close() {
        await Promise.all(opened.map((store) => store.close?.()))
      },
    }
  } catch (error) {
    void Promise.all(opened.map((store) => store.close?.())).catch(() => {})
    throw error
  }
}
