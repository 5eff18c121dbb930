import { PermanentEventError } from '@ytrag/events'

/**
 * Decodes a stored JSON blob an event pointed to. A blob that does not parse will not parse on
 * the next delivery either: that is a PermanentEventError (422, not retried), not a 500.
 *
 * @example
 * ```ts
 * const transcript = parseJsonBlob<StoredTranscript>(await stores.blobs.get(blobKey), blobKey)
 * ```
 */
export function parseJsonBlob<T>(bytes: Uint8Array, key: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T
  } catch (error) {
    throw new PermanentEventError(`blob ${key} is not valid JSON: ${(error as Error).message}`)
  }
}
