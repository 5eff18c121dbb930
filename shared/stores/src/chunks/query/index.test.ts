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
  it('quotes each distinct content word and ORs them, leaving stop words out', () => {
    expect(toFtsQuery(`what's "C++" -foo AND (`, { proximityPairs: 0, phrasePairs: 0 })).toBe('"c" OR "foo"')
    expect(toFtsQuery('Cache cache CACHE cached')).toBe('"cache"')
  })

  it('asks for every form of an irregular word', () => {
    expect(toFtsQuery('built', { proximityPairs: 0, phrasePairs: 0 })).toBe('("build" OR "built")')
  })

  it('adds NEAR groups of words near each other in the question, nearest first, and phrases of neighbours', () => {
    expect(toFtsQuery('the fallen blocks of stone')).toBe(
      '("fall" OR "fell" OR "fallen") OR "blocks" OR "stone" OR NEAR("fallen" "blocks", 8) OR NEAR("blocks" "stone", 8) OR NEAR("fallen" "stone", 8) OR "fallen blocks" OR "blocks stone"',
    )
    expect(toFtsQuery('fallen blocks stone', { proximityPairs: 1, proximityWindow: 3, phrasePairs: 0 })).toMatch(
      /OR NEAR\("fallen" "blocks", 3\)$/,
    )
    expect(toFtsQuery('alpha beta gamma delta', { phrasePairs: 0 })?.match(/NEAR/g)).toHaveLength(6)
    expect(toFtsQuery('alpha beta gamma delta', { proximityPairs: 0, phrasePairs: 1 })).toBe(
      '"alpha" OR "beta" OR "gamma" OR "delta" OR "alpha beta"',
    )
  })

  it('ranks a passage saying the asked words side by side above one that has them apart', () => {
    const db = new DatabaseSync(':memory:')
    db.exec(`CREATE VIRTUAL TABLE f USING fts5(text, tokenize='porter unicode61')`)
    const insert = db.prepare('INSERT INTO f (rowid, text) VALUES (?, ?)')
    insert.run(1, 'A composite index covers more than one column, for example a name.')
    insert.run(2, 'A covering index holds every column that a query needs to answer.')
    const ranked = db.prepare('SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f)')
    expect(ranked.all(toFtsQuery('what is a covering index')!).map((row) => row.rowid)).toEqual([2, 1])
    db.close()
  })

  it('keeps the stop words of a question made of nothing else', () => {
    expect(toFtsQuery('what is it', { proximityPairs: 0, phrasePairs: 0 })).toMatch(/^"what" OR \(.*"is".*\) OR "it"$/)
  })

  it('gives undefined when there is no word', () => {
    expect(toFtsQuery('')).toBeUndefined()
    expect(toFtsQuery('  -- () "" * ')).toBeUndefined()
  })

  it('caps the number of terms', () => {
    expect(toFtsQuery('alpha beta gamma delta', { maxTerms: 2, proximityPairs: 0, phrasePairs: 0 })).toBe(
      '"alpha" OR "beta"',
    )
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
