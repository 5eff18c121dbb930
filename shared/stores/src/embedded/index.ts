// The embedded local mode: every store in one directory, nothing to run beside the server.
// `@ytrag/stores/embedded`: its adapters, apart from the package's main entry point, which
// imports them only when the configuration selects them.
import path from 'node:path'
import { DirectoryBlobStore } from '../directory-blobs/index.ts'
import { SqliteChunkIndex, type SqliteChunkIndexOptions } from '../sqlite-chunks/index.ts'
import { SqliteDocumentStore } from '../sqlite-documents/index.ts'

export { DirectoryBlobStore, type DirectoryBlobStoreOptions } from '../directory-blobs/index.ts'
export { EmbeddingDimensionError, SqliteChunkIndex, type SqliteChunkIndexOptions } from '../sqlite-chunks/index.ts'
export { SqliteDocumentStore, type SqliteDocumentStoreOptions } from '../sqlite-documents/index.ts'

/** Where each embedded store lives in the storage directory: decided here only. */
export const embeddedDocuments = (dir: string) => new SqliteDocumentStore({ path: path.join(dir, 'documents.sqlite') })
export const embeddedChunks = (dir: string, options: Omit<SqliteChunkIndexOptions, 'path'> = {}) =>
  new SqliteChunkIndex({ path: path.join(dir, 'chunks.sqlite'), ...options })
export const embeddedBlobs = (dir: string) => new DirectoryBlobStore({ dir: path.join(dir, 'blobs') })
