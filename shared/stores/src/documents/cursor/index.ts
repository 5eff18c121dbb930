// Page cursors are opaque to clients, but every adapter encodes its sort key the same way so
// they stay interchangeable, and makes a page of what it read the same way.
import type { Page } from '../port.ts'

/** A cursor a client sent that this store never issued (or tampered with); an HTTP layer maps it to 400. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError'
  constructor(message = 'Invalid page cursor') {
    super(message)
  }
}

/**
 * Encodes a page's last sort key (strings only) as base64url JSON.
 *
 * @example
 * encodeCursor(['2024-05-01T10:00:00.000Z', 'dQw4w9WgXcQ']) // 'WyIyMDI0LTA1…'
 */
export function encodeCursor(key: string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url')
}

/**
 * Decodes a cursor made by `encodeCursor` with `length` parts, or throws InvalidCursorError.
 *
 * @example
 * const [createdAt, videoId] = decodeCursor(cursor, 2)
 */
export function decodeCursor(cursor: string, length: number): string[] {
  let parsed: unknown
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw new Error('not base64url')
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidCursorError()
  }
  if (!Array.isArray(parsed) || parsed.length !== length || !parsed.every((part) => typeof part === 'string')) {
    throw new InvalidCursorError()
  }
  return parsed as string[]
}

/**
 * The page of the first `limit` of `items`, which were read one more than asked: the extra one
 * (never returned) tells that there is a next page, which starts after the page's last item's
 * sort key.
 *
 * @example
 * const docs = await videos.find(filter).sort({ createdAt: -1, videoId: 1 }).limit(limit + 1).toArray()
 * return pageOf(docs.map(toVideo), limit, (video) => [video.createdAt, video.videoId])
 */
export function pageOf<T>(items: T[], limit: number, sortKey: (item: T) => string[]): Page<T> {
  const page = items.slice(0, limit)
  const last = page.at(-1)
  return { items: page, nextCursor: items.length > limit && last !== undefined ? encodeCursor(sortKey(last)) : null }
}
