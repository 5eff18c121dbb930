// Per-document write locks, for servers whose updates are not atomic per document (FerretDB 1.x;
// see dialect.ts, `lockWrites`). A lock is a document in `locks` with a unique key: inserting it
// is atomic on every server.
import { randomUUID } from 'node:crypto'
import type { Collection, Db } from 'mongodb'
import { isDuplicateKeyError } from './collections.ts'
import type { MongoDialect } from './dialect.ts'

interface LockDocument {
  /** Unique per acquisition, so breaking a stale lock can never delete its successor. */
  _id: string
  /** `videos:<videoId>`, `jobs:<jobId>`, `channels:<channelId>` or `hosts:<host>`; unique. */
  key: string
  expiresAt: Date
}

const LOCK_INDEX = { key: { key: 1 }, name: 'key_unique', unique: true } as const

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The `locks` collection: `hold` runs a write while holding the lock on one document's key.
 *
 * @example
 * const locks = new WriteLocks(db, { timeoutMs: 10_000, leaseMs: 30_000, where: () => 'localhost, database ytrag' })
 * await locks.init(dialect)
 * await locks.hold(`videos:${videoId}`, () => videos.updateOne({ videoId }, change))
 */
export class WriteLocks {
  readonly #locks: Collection<LockDocument>
  readonly #timeoutMs: number
  readonly #leaseMs: number
  readonly #where: () => string

  constructor(
    db: Db,
    {
      timeoutMs,
      leaseMs,
      where,
    }: {
      /** How long a write waits for another writer's lock before it fails. */
      timeoutMs: number
      /** After how long a lock whose holder never released it (it crashed) may be broken. */
      leaseMs: number
      /** The server and database, for the message of a lock waited for in vain. */
      where: () => string
    },
  ) {
    this.#locks = db.collection<LockDocument>('locks')
    this.#timeoutMs = timeoutMs
    this.#leaseMs = leaseMs
    this.#where = where
  }

  /** Creates the unique index on the key, which is what makes a lock exclusive. */
  async init(dialect: MongoDialect): Promise<void> {
    await dialect.createIndexes(this.#locks, [LOCK_INDEX])
  }

  /** Runs `write` while holding the lock on `key`, then releases it. */
  async hold<T>(key: string, write: () => Promise<T>): Promise<T> {
    const token = await this.#acquire(key)
    try {
      return await write()
    } finally {
      // A failed release only delays the next writer until the lease runs out.
      await this.#locks.deleteOne({ _id: token }).catch(() => undefined)
    }
  }

  async #acquire(key: string): Promise<string> {
    const token = randomUUID()
    // Real time, not the store's `now`: an injected (fixed) clock must not make every lease stale or eternal.
    const deadline = Date.now() + this.#timeoutMs
    let pause = 2
    for (;;) {
      try {
        await this.#locks.insertOne({ _id: token, key, expiresAt: new Date(Date.now() + this.#leaseMs) })
        return token
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error
      }
      const holder = await this.#locks.findOne({ key })
      // A retried insert whose first attempt did land finds its own lock.
      if (holder?._id === token) return token
      if (holder && holder.expiresAt.getTime() < Date.now()) {
        // Its holder died: delete that very lock (by its _id), then compete for the key again.
        await this.#locks.deleteOne({ _id: holder._id })
        continue
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `MongoDB document store: waited ${this.#timeoutMs} ms for the write lock on ${key} (${this.#where()})`,
        )
      }
      // Jittered backoff, so waiters do not retry in lockstep.
      await sleep(pause * (0.5 + Math.random()))
      pause = Math.min(pause * 2, 50)
    }
  }
}
