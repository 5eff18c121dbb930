// Test servers for the production adapters, behind `@ytrag/stores/testing` so production code
// never loads s3rver.
export { type FakeQdrantRequest, type RunningFakeQdrant, startFakeQdrant } from './fake-qdrant.ts'
export { type RunningS3rver, S3RVER_CREDENTIALS, type S3rverRequest, startS3rver } from './s3rver.ts'
