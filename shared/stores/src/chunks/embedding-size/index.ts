// The size of the dense embeddings a chunk index stores: one home for what every index checks
// against it, and for how it may be learned instead of given.

/** An embedding whose size differs from the index's; re-index everything to change models. */
export class EmbeddingDimensionError extends Error {
  override name = 'EmbeddingDimensionError'
}

/**
 * The embedding size, known up front, or how to learn it (typically one embedding request)
 * when the index first needs it: Qdrant, to make its collection. Learning it is left to first
 * use so that no function asks a model anything while it starts.
 *
 * @example
 * const size: EmbeddingSize = async () => (await embeddings.embed(['dimension probe']))[0]?.length
 */
export type EmbeddingSize = number | (() => Promise<number | undefined>)

/** Throws unless `size` is a positive integer (or undefined: not known). */
export function assertEmbeddingSize(size: number | undefined, what = 'dimensions'): void {
  if (size !== undefined && (!Number.isInteger(size) || size < 1))
    throw new RangeError(`${what} must be a positive integer, got ${size}`)
}
