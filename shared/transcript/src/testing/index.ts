// What tests and benchmarks that make up transcripts share (`@ytrag/transcript/testing`).

/**
 * A small seeded PRNG (mulberry32): numbers in [0, 1), the same sequence for the same seed, so a
 * made-up transcript that fails a test can be made again, and a benchmark's fixtures are the
 * same on every run.
 *
 * @example
 * ```ts
 * const random = seededRandom(42)
 * random() // 0.6011037519201636, on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = state
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}
