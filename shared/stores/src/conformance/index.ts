// The conformance suites, for `@ytrag/stores/conformance` (not the package index: they import vitest).
export { blobStoreConformance, HOSTILE_KEYS } from '../blobs/conformance.ts'
export { chunkIndexConformance, HOSTILE_QUERIES } from '../chunks/conformance.ts'
export { documentStoreConformance } from '../documents/conformance.ts'
