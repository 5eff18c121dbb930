// The domain's types, once: each a zod schema (built on first use) with its type inferred from
// it. The stores, the events, the search and the API import them from here; this package
// imports nothing of the project's, so any package can depend on it without a cycle.
//
// Records are strict objects (a value has these fields and no others), so the API's document,
// made from these same schemas, says so; the blobs one function writes and the next reads
// (`transcript.json`, a segment's transcription) are plain objects, so a field added by a newer
// writer is dropped on read instead of refused. The schemas the API's document names carry
// their component name as zod metadata (`.meta({ id })`).
export * from './answer/index.ts'
export * from './channel/index.ts'
export * from './hit/index.ts'
export * from './iso-time.ts'
export * from './job/index.ts'
export * from './transcript/index.ts'
export * from './video/index.ts'
