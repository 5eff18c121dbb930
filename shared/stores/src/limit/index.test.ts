import { describe, expect, it } from 'vitest'
import { assertLimit } from './index.ts'

describe('assertLimit', () => {
  it('takes a positive integer', () => {
    expect(() => assertLimit(1)).not.toThrow()
    expect(() => assertLimit(500)).not.toThrow()
  })

  it('rejects zero, a negative, a fraction, NaN and infinity, naming the value', () => {
    for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => assertLimit(limit)).toThrow(new RangeError(`limit must be a positive integer, got ${limit}`))
    }
  })
})
