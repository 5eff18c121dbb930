// The package's public surface: the ports, what every adapter shares, and `openStores`, which
// imports the adapters the configuration selects. The adapters have entry points of their own,
// so that importing this one never loads a database client: `@ytrag/stores/embedded` (SQLite
// and a directory), `/mongodb`, `/qdrant`, `/s3`. The conformance suites import vitest, so they
// live behind `@ytrag/stores/conformance`.
export * from './ports.ts'
export { assertBlobKey, assertBlobPrefix, InvalidBlobKeyError } from './blob-key-rules/index.ts'
export { blobKeys, listedInfoSchema, type ListedInfo } from './blob-keys/index.ts'
export { CorruptBlobError, decodeJsonBlob, transcriptBlob } from './blob-json/index.ts'
export { CHUNK_ID_NAMESPACE, chunkId } from './chunk-id/index.ts'
export { decodeCursor, encodeCursor, InvalidCursorError } from './cursor/index.ts'
export { assertEmbeddingSize, EmbeddingDimensionError, type EmbeddingSize } from './embedding-size/index.ts'
export { type FusedItem, reciprocalRankFusion } from './fusion/index.ts'
export { type JobFacts, type LinkedVideoFacts, summarizeJob } from './job-summary/index.ts'
export { currentStage, isFinished, STAGES, videoStatus } from './video-status/index.ts'
export { sparseDocumentVector, sparseQueryVector, type SparseVector, tokenize } from './sparse/index.ts'
export { analyzeQuery, type QueryTerm } from './text-analysis/index.ts'
export { openStores, type OpenStoresOptions, type StoreProviders } from './open/index.ts'
