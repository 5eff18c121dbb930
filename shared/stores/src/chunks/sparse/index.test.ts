import { DatabaseSync } from 'node:sqlite'
import { describe, expect, it } from 'vitest'
import { HOSTILE_QUERIES } from '../conformance.ts'
import { toFtsQuery } from '../query/index.ts'
import { addSparse, sparseDocumentVector, sparseQueryVector, termIndex, tokenize } from './index.ts'

const weightOf = (vector: { indices: number[]; values: number[] }, term: string): number | undefined => {
  const at = vector.indices.indexOf(termIndex(term))
  return at === -1 ? undefined : vector.values[at]
}

const expectWellFormed = (vector: { indices: number[]; values: number[] }) => {
  expect(vector.values).toHaveLength(vector.indices.length)
  for (let i = 1; i < vector.indices.length; i++) expect(vector.indices[i]!).toBeGreaterThan(vector.indices[i - 1]!)
  for (const index of vector.indices) {
    expect(Number.isInteger(index)).toBe(true)
    expect(index).toBeGreaterThanOrEqual(0)
    expect(index).toBeLessThanOrEqual(0xffffffff)
  }
  for (const value of vector.values) expect(value).toBeGreaterThan(0)
}

describe('tokenize', () => {
  it('lower-cases, splits on non-letters, drops Latin diacritics and stems like FTS5 porter unicode61', () => {
    expect(tokenize('Caching: the naïve way!')).toEqual(['cach', 'the', 'naiv', 'wai'])
    expect(tokenize('KUBERNETES?!')).toEqual(tokenize('kubernetes'))
    expect(tokenize(`what's "C++" -foo AND (`)).toEqual(['what', 's', 'c', 'foo', 'and'])
  })

  it('gives the same terms for composed and decomposed text', () => {
    expect(tokenize('caf\u00e9')).toEqual(tokenize('cafe\u0301'))
    expect(tokenize('Café')).toEqual(['cafe'])
  })

  it('keeps non-Latin words whole', () => {
    expect(tokenize('😀 東京 naïve')).toEqual(['東京', 'naiv'])
  })

  it('gives nothing for text without words', () => {
    expect(tokenize('')).toEqual([])
    expect(tokenize(' -- ( " * ')).toEqual([])
  })
})

describe('termIndex', () => {
  it('is 32-bit FNV-1a of the UTF-8 bytes', () => {
    // Published FNV-1a test vectors.
    expect(termIndex('')).toBe(0x811c9dc5)
    expect(termIndex('a')).toBe(0xe40c292c)
    expect(termIndex('foobar')).toBe(0xbf9cf968)
  })
})

describe('sparseDocumentVector', () => {
  it('gives "caching", "cached" and "caches" one index', () => {
    const [caching, cached, caches] = ['caching', 'cached', 'caches'].map((word) => sparseDocumentVector(word))
    expect(caching!.indices).toEqual([termIndex('cach')])
    expect(cached!.indices).toEqual(caching!.indices)
    expect(caches!.indices).toEqual(caching!.indices)
    // So a query for "caching" shares its one index with a chunk saying "cached".
    expect(sparseDocumentVector('the responses are cached at the edge').indices).toContain(
      sparseQueryVector('caching').indices[0],
    )
  })

  it('is deterministic, with sorted unique indices and positive values', () => {
    const text = 'the team talks about the database and the way the data is stored, the data'
    const vector = sparseDocumentVector(text)
    expect(sparseDocumentVector(text)).toEqual(vector)
    expectWellFormed(vector)
    // "the", "team", "talk", "about", "databas", "and", "wai", "data", "is", "store"
    expect(vector.indices).toHaveLength(new Set(tokenize(text)).size)
  })

  it('weights a repeated term more, with diminishing returns (k1)', () => {
    const once = weightOf(sparseDocumentVector('backoff retries'), 'backoff')!
    const twice = weightOf(sparseDocumentVector('backoff backoff'), 'backoff')!
    const thrice = weightOf(sparseDocumentVector('backoff backoff backoff'), 'backoff')!
    expect(twice).toBeGreaterThan(once)
    expect(thrice - twice).toBeLessThan(twice - once)
    // Never above k1 + 1, however often the term repeats.
    expect(weightOf(sparseDocumentVector(Array(500).fill('backoff').join(' ')), 'backoff')).toBeLessThan(2.2)
  })

  it('gives a term less weight in a longer document (b)', () => {
    const short = weightOf(sparseDocumentVector('zygomorphic layout'), 'zygomorph')!
    const long = weightOf(sparseDocumentVector(`zygomorphic layout ${'filler words here '.repeat(40)}`), 'zygomorph')!
    expect(long).toBeLessThan(short)
    // b = 0 turns length normalisation off.
    expect(weightOf(sparseDocumentVector(`zygomorphic ${'x '.repeat(100)}`, { b: 0 }), 'zygomorph')).toBeCloseTo(
      weightOf(sparseDocumentVector('zygomorphic', { b: 0 }), 'zygomorph')!,
    )
  })

  it('matches the BM25 term-frequency formula', () => {
    // 3 terms, "data" twice: tf·(k1+1) / (tf + k1·(1 − b + b·3/avg)).
    const vector = sparseDocumentVector('data data lake', { k1: 1.2, b: 0.75, avgDocLength: 6 })
    const norm = 1.2 * (1 - 0.75 + (0.75 * 3) / 6)
    expect(weightOf(vector, 'data')).toBeCloseTo((2 * 2.2) / (2 + norm))
    expect(weightOf(vector, 'lake')).toBeCloseTo(2.2 / (1 + norm))
  })

  it('gives an empty vector for text without words', () => {
    expect(sparseDocumentVector('')).toEqual({ indices: [], values: [] })
    expect(sparseDocumentVector(' -- ( " * ')).toEqual({ indices: [], values: [] })
  })

  it('refuses parameters BM25 has no meaning for', () => {
    expect(() => sparseDocumentVector('a', { b: 2 })).toThrow(RangeError)
    expect(() => sparseDocumentVector('a', { avgDocLength: 0 })).toThrow(RangeError)
  })
})

describe('sparseQueryVector', () => {
  it('weights each distinct term 1, leaving stop words out', () => {
    const vector = sparseQueryVector('Caching? cached! CACHES and caching servers')
    expect(vector.indices).toEqual([termIndex('server'), termIndex('cach')].sort((a, b) => a - b))
    expect(vector.values).toEqual([1, 1])
  })

  it('asks for every form of an irregular word, and keeps a query of stop words only', () => {
    expect(sparseQueryVector('what was built').indices).toEqual(
      [termIndex('build'), termIndex('built')].sort((a, b) => a - b),
    )
    expect(sparseQueryVector('what is it').indices).toContain(termIndex('what'))
  })

  it('keeps at most maxTerms terms', () => {
    const text = Array.from({ length: 50 }, (_, i) => `word${i}`).join(' ')
    expect(sparseQueryVector(text).indices).toHaveLength(32)
    expect(sparseQueryVector(text, { maxTerms: 3 }).indices).toHaveLength(3)
  })

  it('never throws on hostile text', () => {
    for (const text of HOSTILE_QUERIES) expectWellFormed(sparseQueryVector(text))
    expect(sparseQueryVector('')).toEqual({ indices: [], values: [] })
  })
})

describe('addSparse', () => {
  it('adds a scaled vector, keeping indices sorted and unique', () => {
    const text = sparseDocumentVector('quantum entanglement')
    const title = sparseDocumentVector('Quantum physics', { b: 0 })
    const sum = addSparse(text, title, 0.5)
    expectWellFormed(sum)
    expect(weightOf(sum, 'quantum')).toBeCloseTo(weightOf(text, 'quantum')! + 0.5 * weightOf(title, 'quantum')!)
    expect(weightOf(sum, 'physic')).toBeCloseTo(0.5 * weightOf(title, 'physic')!)
    expect(addSparse(text, title, 0)).toEqual(text)
  })
})

describe('the sparse vectors and the FTS5 index', () => {
  const documents = [
    'Later the sultan Qaitbay used the fallen blocks to build a fortress',
    'it was what it was, and it was good',
    'the lighthouse fell in an earthquake',
    'they are building a new harbour wall',
    'Naïve caching of responses at the edge',
    'the children lived by the sea; one child lives there still',
    'C++ templates and what foo means',
  ]
  const queries = [
    'what was built from the fallen blocks',
    'who lives by the sea',
    'CACHED response',
    'what is it',
    `what's "C++" -foo AND (`,
    'children',
  ]

  it('find the same documents for a query, through the shared analysis', () => {
    const db = new DatabaseSync(':memory:')
    db.exec(`CREATE VIRTUAL TABLE f USING fts5(text, tokenize='porter unicode61')`)
    for (const [i, text] of documents.entries()) db.prepare('INSERT INTO f (rowid, text) VALUES (?, ?)').run(i, text)
    for (const query of queries) {
      // FTS5's own tokenizer reads the documents and the MATCH expression's phrases.
      const byFts = db
        .prepare('SELECT rowid FROM f WHERE f MATCH ? ORDER BY rowid')
        .all(toFtsQuery(query, { proximityPairs: 0, phrasePairs: 0 })!)
        .map((row) => Number(row.rowid))
      const asked = new Set(sparseQueryVector(query).indices)
      const bySparse = documents.flatMap((text, i) =>
        sparseDocumentVector(text).indices.some((index) => asked.has(index)) ? [i] : [],
      )
      expect(bySparse, query).toEqual(byFts)
      expect(byFts.length, query).toBeGreaterThan(0)
    }
    db.close()
  })

  it('hold the terms FTS5 stores for a document', () => {
    const db = new DatabaseSync(':memory:')
    db.exec(
      `CREATE VIRTUAL TABLE f USING fts5(text, tokenize='porter unicode61'); CREATE VIRTUAL TABLE v USING fts5vocab(f, 'row')`,
    )
    for (const text of documents) db.prepare('INSERT INTO f (text) VALUES (?)').run(text)
    const stored = db
      .prepare('SELECT term FROM v')
      .all()
      .map((row) => String(row.term))
      .sort()
    expect([...new Set(documents.flatMap(tokenize))].sort()).toEqual(stored)
    db.close()
  })
})
