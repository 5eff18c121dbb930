import { PermanentEventError } from '@ytrag/events'
import type { z } from 'zod'

/**
 * Decodes a stored JSON blob an event pointed to and checks its shape. A blob that does not
 * parse, or parses to the wrong shape, will be the same on the next delivery: that is a
 * PermanentEventError (422, not retried; the dead-letter function records the stage's failure),
 * not a 500 the broker would retry.
 *
 * @example
 * ```ts
 * const transcript = parseJsonBlob(await stores.blobs.get(blobKey), blobKey, storedTranscriptSchema)
 * ```
 */
export function parseJsonBlob<T>(bytes: Uint8Array, key: string, schema: z.ZodType<T>): T {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(bytes))
  } catch (error) {
    throw new PermanentEventError(`blob ${key} is not valid JSON: ${(error as Error).message}`)
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const where = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
    throw new PermanentEventError(`blob ${key} is not what it should hold${where}: ${issue.message}`)
  }
  return parsed.data
}
