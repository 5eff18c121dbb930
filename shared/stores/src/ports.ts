// The ports every adapter implements, over the domain's types (@ytrag/domain, re-exported here
// so a caller of the stores imports them from one place): documents (documents/port.ts), chunks
// (chunks/port.ts) and blobs (blobs/port.ts), each with its adapters and conformance suite in its
// folder, and the Stores a function opens.
import type { BlobStore } from './blobs/port.ts'
import type { ChunkIndex } from './chunks/port.ts'
import type { DocumentStore } from './documents/port.ts'

export type * from '@ytrag/domain'
export type { ChunkSentence } from '@ytrag/transcript'
export type * from './blobs/port.ts'
export type * from './chunks/port.ts'
export type * from './documents/port.ts'

/** The stores one function uses, opened once at start-up from the configuration. */
export interface Stores {
  documents: DocumentStore
  chunks: ChunkIndex
  blobs: BlobStore
  close(): Promise<void>
}
