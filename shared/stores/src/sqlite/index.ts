// What every SQLite file of the project shares (the stores' adapters, the local broker's queue): opening
// a file the same way, and a write transaction. Exported alone as `@ytrag/stores/sqlite`, so a user
// of these helpers does not load every adapter (MongoDB, S3, Qdrant) with them.
import fs from 'node:fs'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'

export interface OpenDatabaseOptions {
  /** A file path (its parent directory is created), or `:memory:`. */
  path: string
  /** How long a write waits for another connection's lock before failing. Default 5000. */
  busyTimeoutMs?: number
  /** Lets the caller load an extension (sqlite-vec) before the handle is used. Default false. */
  allowExtension?: boolean
}

/**
 * Opens a database in WAL mode, so the server's readers never wait on a stage's writes.
 *
 * @example
 * const db = openDatabase({ path: '.youtube-rag/documents.sqlite' })
 */
export function openDatabase({
  path: file,
  busyTimeoutMs = 5000,
  allowExtension = false,
}: OpenDatabaseOptions): DatabaseSync {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  const db = new DatabaseSync(file, { allowExtension, timeout: busyTimeoutMs })
  // busy_timeout before journal_mode: switching to WAL itself takes a lock.
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`)
  db.exec('PRAGMA journal_mode = WAL')
  // NORMAL is durable across application crashes in WAL mode; only a power cut can lose the last commit.
  db.exec('PRAGMA synchronous = NORMAL')
  return db
}

/**
 * Runs `fn` in one write transaction (BEGIN IMMEDIATE, so the write lock is taken up front and
 * a busy database waits for busy_timeout instead of failing half-way). Nested calls join the
 * outer transaction.
 *
 * @example
 * transaction(db, () => { db.prepare('DELETE FROM t WHERE k = ?').run(k); insert.run(k, v) })
 */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  if (db.isTransaction) return fn()
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = fn()
    db.exec('COMMIT')
    return result
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw error
  }
}

/** Closes a handle once; closing twice is not an error for a store's `close()`. */
export function closeDatabase(db: DatabaseSync): void {
  if (db.isOpen) db.close()
}

/** node:sqlite binds every JS number as REAL; rowids for virtual tables (vec0) must be INTEGER. */
export const asInteger = (value: number): bigint => BigInt(Math.trunc(value))

/** Reads an optional text column. */
export const optionalString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

/** Reads an optional numeric column. */
export const optionalNumber = (value: unknown): number | undefined =>
  typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : undefined
