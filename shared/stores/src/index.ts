// The package's public surface. The conformance suites import vitest, so they live behind
// `@ytrag/stores/conformance` instead.
export * from './ports.ts'
export { assertBlobKey, assertBlobPrefix, InvalidBlobKeyError } from './blob-key-rules/index.ts'
export { blobKeys, type StoredTranscript } from './blob-keys/index.ts'
export { CHUNK_ID_NAMESPACE, chunkId } from './chunk-id/index.ts'
export { decodeCursor, encodeCursor, InvalidCursorError } from './cursor/index.ts'
export { DirectoryBlobStore, type DirectoryBlobStoreOptions } from './directory-blobs/index.ts'
export { type EmbeddedStoresOptions, openEmbeddedStores } from './embedded/index.ts'
export { type FusedItem, reciprocalRankFusion } from './fusion/index.ts'
export { type JobFacts, type LinkedVideoFacts, STAGES, summarizeJob } from './job-summary/index.ts'
export { EmbeddingDimensionError, SqliteChunkIndex, type SqliteChunkIndexOptions } from './sqlite-chunks/index.ts'
export { SqliteDocumentStore, type SqliteDocumentStoreOptions } from './sqlite-documents/index.ts'
