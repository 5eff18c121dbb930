// The embedded local mode: every store in one directory, nothing to run beside the server.
// `@ytrag/stores/embedded`: its adapters, apart from the package's main entry point, which
// imports them only when the configuration selects them.
import path from 'node:path'
import { DirectoryBlobStore } from '../blobs/directory/index.ts'
import { SqliteChunkIndex, type SqliteChunkIndexOptions } from '../chunks/sqlite/index.ts'
import { SqliteDocumentStore } from '../documents/sqlite/index.ts'

export { DirectoryBlobStore, type DirectoryBlobStoreOptions } from '../blobs/directory/index.ts'
export { EmbeddingDimensionError, SqliteChunkIndex, type SqliteChunkIndexOptions } from '../chunks/sqlite/index.ts'
export { SqliteDocumentStore, type SqliteDocumentStoreOptions } from '../documents/sqlite/index.ts'

/** Where each embedded store lives in the storage directory: decided here only. */
export const embeddedDocuments = (dir: string) => new SqliteDocumentStore({ path: path.join(dir, 'documents.sqlite') })
export const embeddedChunks = (dir: string, options: Omit<SqliteChunkIndexOptions, 'path'> = {}) =>
  new SqliteChunkIndex({ path: path.join(dir, 'chunks.sqlite'), ...options })
export const embeddedBlobs = (dir: string) => new DirectoryBlobStore({ dir: path.join(dir, 'blobs') })
