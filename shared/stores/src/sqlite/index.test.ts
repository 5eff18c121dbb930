import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { closeDatabase, openDatabase, transaction } from './index.ts'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ytrag-sqlite-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('openDatabase', () => {
  it('creates the parent directory and opens in WAL mode', () => {
    const db = openDatabase({ path: path.join(dir, 'a', 'b', 'x.sqlite') })
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
    expect(db.prepare('PRAGMA busy_timeout').get()).toEqual({ timeout: 5000 })
    closeDatabase(db)
    closeDatabase(db)
    expect(fs.existsSync(path.join(dir, 'a', 'b', 'x.sqlite'))).toBe(true)
  })
})

describe('transaction', () => {
  it('commits on success and rolls back on a throw', () => {
    const db = openDatabase({ path: ':memory:' })
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)')
    transaction(db, () => db.prepare('INSERT INTO t VALUES (?)').run('a'))
    expect(() =>
      transaction(db, () => {
        db.prepare('INSERT INTO t VALUES (?)').run('b')
        transaction(db, () => db.prepare('INSERT INTO t VALUES (?)').run('c'))
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(
      db
        .prepare('SELECT k FROM t')
        .all()
        .map((row) => row.k),
    ).toEqual(['a'])
    expect(db.isTransaction).toBe(false)
    db.close()
  })
})
