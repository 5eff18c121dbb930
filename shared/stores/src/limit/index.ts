// A query's `limit` (a page size, a scan's batch, a search's hits), checked alike by every
// adapter of every port, so that a bad one fails the same way whichever store is behind it.

/**
 * Throws a RangeError unless `limit` is a positive integer.
 *
 * @example
 * assertLimit(20) // fine
 * assertLimit(0) // RangeError: limit must be a positive integer, got 0
 */
export function assertLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
}
