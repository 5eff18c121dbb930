// The JSON blobs one function writes and the next reads, read and written one way: decoded and
// checked against their domain schema, so a blob of the wrong shape (written by an older version,
// or tampered with) is refused where it is read, with what is wrong, instead of failing somewhere
// inside the handler.
import { type StoredTranscript, storedTranscriptSchema } from '@ytrag/domain'
import type { z } from 'zod'
import { blobKeys } from '../keys/index.ts'
import type { BlobStore } from '../../ports.ts'

/**
 * A stored blob that does not decode to what it should hold. It will be the same on the next
 * read: an event handler that meets one answers 422 (not retried), not a 500 the broker retries.
 */
export class CorruptBlobError extends Error {
  override name = 'CorruptBlobError'
}

/**
 * Decodes a JSON blob and checks its shape, naming the blob and what is wrong when either fails.
 *
 * @example
 * ```ts
 * const part = decodeJsonBlob(bytes, key, segmentTranscriptionSchema)
 * ```
 */
export function decodeJsonBlob<T>(bytes: Uint8Array, key: string, schema: z.ZodType<T>): T {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(bytes))
  } catch (error) {
    throw new CorruptBlobError(`blob ${key} is not valid JSON: ${(error as Error).message}`)
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
    throw new CorruptBlobError(`blob ${key} is not what it should hold${where}: ${issue.message}`)
  }
  return parsed.data
}

/**
 * A video's `transcript.json`: the one way it is written (checked, at `blobKeys.transcript`) and
 * read (undefined when absent, CorruptBlobError when it does not hold a transcript).
 *
 * @example
 * ```ts
 * const blobKey = await transcriptBlob.write(stores.blobs, { videoId, source: 'captions', language: 'en', segments })
 * const transcript = await transcriptBlob.read(stores.blobs, blobKey)
 * ```
 */
export const transcriptBlob = {
  async read(blobs: Pick<BlobStore, 'get'>, key: string): Promise<StoredTranscript | undefined> {
    const bytes = await blobs.get(key)
    return bytes && decodeJsonBlob(bytes, key, storedTranscriptSchema)
  },
  /** Writes the transcript where its video's transcript lives; returns that key. */
  async write(blobs: Pick<BlobStore, 'put'>, transcript: StoredTranscript): Promise<string> {
    const key = blobKeys.transcript(transcript.videoId)
    await blobs.put(key, JSON.stringify(storedTranscriptSchema.parse(transcript)), 'application/json')
    return key
  },
}
