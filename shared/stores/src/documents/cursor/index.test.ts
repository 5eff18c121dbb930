import { describe, expect, it } from 'vitest'
import { decodeCursor, encodeCursor, InvalidCursorError, pageOf } from './index.ts'

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

  it('makes a page of the first `limit` items, with a cursor after the last only when one more was read', () => {
    const items = [
      { at: '3', id: 'c' },
      { at: '2', id: 'b' },
      { at: '1', id: 'a' },
    ]
    const key = (item: { at: string; id: string }) => [item.at, item.id]
    const first = pageOf(items, 2, key)
    expect(first.items).toEqual(items.slice(0, 2))
    expect(decodeCursor(first.nextCursor!, 2)).toEqual(['2', 'b'])
    expect(pageOf(items, 3, key)).toEqual({ items, nextCursor: null })
    expect(pageOf([], 3, key)).toEqual({ items: [], nextCursor: null })
  })
})
