// The package's public surface: the ports, what every adapter shares, and `openStores`, which
// imports the adapters the configuration selects. The adapters have entry points of their own,
// so that importing this one never loads a database client: `@ytrag/stores/embedded` (SQLite
// and a directory), `/mongodb`, `/qdrant`, `/s3`. The conformance suites import vitest, so they
// live behind `@ytrag/stores/conformance`.
export * from './ports.ts'
export { assertBlobKey, assertBlobPrefix, InvalidBlobKeyError } from './blobs/key-rules/index.ts'
export { blobKeys, listedInfoSchema, type ListedInfo } from './blobs/keys/index.ts'
export { CorruptBlobError, decodeJsonBlob, transcriptBlob } from './blobs/json/index.ts'
export { CHUNK_ID_NAMESPACE, chunkId } from './chunks/chunk-id/index.ts'
export { decodeCursor, encodeCursor, InvalidCursorError } from './documents/cursor/index.ts'
export { assertEmbeddingSize, EmbeddingDimensionError, type EmbeddingSize } from './chunks/embedding-size/index.ts'
export { type FusedItem, reciprocalRankFusion } from './chunks/fusion/index.ts'
export { type JobFacts, type LinkedVideoFacts, summarizeJob } from './documents/job-summary/index.ts'
export { currentStage, isFinished, STAGES, videoStatus } from './documents/video-status/index.ts'
export { sparseDocumentVector, sparseQueryVector, type SparseVector, tokenize } from './chunks/sparse/index.ts'
export { analyzeQuery, type QueryTerm } from './chunks/text-analysis/index.ts'
export { openStores, type OpenStoresOptions, type StoreProviders } from './open/index.ts'
