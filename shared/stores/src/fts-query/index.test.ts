import { DatabaseSync } from 'node:sqlite'
import { describe, expect, it } from 'vitest'
import { toFtsQuery } from './index.ts'

const hostile = [
  `what's "C++" -foo AND (`,
  'NEAR(a b)',
  'a OR',
  '*',
  'title:x',
  '^start',
  '"unterminated',
  "'; DROP TABLE chunks; --",
  'AND OR NOT',
  '{a b}: c',
  'naïve café — 東京 😀',
]

describe('toFtsQuery', () => {
  it('quotes each distinct word and ORs them', () => {
    expect(toFtsQuery(`what's "C++" -foo AND (`)).toBe('"what" OR "s" OR "c" OR "foo" OR "and"')
    expect(toFtsQuery('Cache cache CACHE')).toBe('"cache"')
  })

  it('gives undefined when there is no word', () => {
    expect(toFtsQuery('')).toBeUndefined()
    expect(toFtsQuery('  -- () "" * ')).toBeUndefined()
  })

  it('caps the number of terms', () => {
    expect(toFtsQuery('a b c d e', { maxTerms: 2 })).toBe('"a" OR "b"')
  })

  it('never produces an FTS5 syntax error', () => {
    const db = new DatabaseSync(':memory:')
    db.exec(`CREATE VIRTUAL TABLE f USING fts5(text, tokenize='porter unicode61')`)
    db.prepare('INSERT INTO f (text) VALUES (?)').run('the naive cafe in 東京 caches C++ and foo')
    const match = db.prepare('SELECT rowid FROM f WHERE f MATCH ?')
    for (const text of hostile) {
      const query = toFtsQuery(text)
      if (query) expect(() => match.all(query)).not.toThrow()
    }
    expect(match.all(toFtsQuery('NAÏVE')!)).toHaveLength(1)
    db.close()
  })
})
