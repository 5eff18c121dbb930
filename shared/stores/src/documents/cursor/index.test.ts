import { describe, expect, it } from 'vitest'
import { decodeCursor, encodeCursor, InvalidCursorError } from './index.ts'

describe('cursor', () => {
  it('round-trips a sort key through an URL-safe string', () => {
    const cursor = encodeCursor(['2024-05-01T10:00:00.000Z', 'a/b+c?'])
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodeCursor(cursor, 2)).toEqual(['2024-05-01T10:00:00.000Z', 'a/b+c?'])
  })

  it.each([
    '',
    'not a cursor!',
    encodeCursor(['one']),
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('[1,2]').toString('base64url'),
  ])('rejects %j', (cursor) => {
    expect(() => decodeCursor(cursor, 2)).toThrow(InvalidCursorError)
  })
})
