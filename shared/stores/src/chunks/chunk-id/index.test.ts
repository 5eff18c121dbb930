import { v5 as uuidv5, validate, version } from 'uuid'
import { describe, expect, it } from 'vitest'
import { CHUNK_ID_NAMESPACE, chunkId } from './index.ts'

describe('chunkId', () => {
  it('is a stable UUIDv5 of videoId:chunkIndex in the project namespace', () => {
    const id = chunkId('dQw4w9WgXcQ', 3)
    expect(validate(id) && version(id)).toBe(5)
    expect(id).toBe(uuidv5('dQw4w9WgXcQ:3', CHUNK_ID_NAMESPACE))
    expect(chunkId('dQw4w9WgXcQ', 3)).toBe(id)
  })

  it('differs per video and per index', () => {
    expect(new Set([chunkId('a', 0), chunkId('a', 1), chunkId('b', 0), chunkId('a:1', 0)]).size).toBe(4)
  })

  it('rejects a chunk index that is not a non-negative integer', () => {
    expect(() => chunkId('a', -1)).toThrow(RangeError)
    expect(() => chunkId('a', 1.5)).toThrow(RangeError)
  })
})
