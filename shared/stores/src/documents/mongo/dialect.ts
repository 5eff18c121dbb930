// What the MongoDB adapter does because of the server it talks to: MongoDB, or FerretDB 1.x (a
// MongoDB wire-protocol server over SQLite or PostgreSQL: what the tests run on, and what a
// deployment without MongoDB may choose). Every FerretDB workaround of the adapter lives here or
// is named here, so that dropping one when FerretDB grows up is a change to this file.
//
// Decided per server, once, at init, from buildInfo:
// - `lockWrites`: FerretDB 1.x applies an update by reading the whole document and writing all of
//   it back, so two concurrent updates of one document (two stages of one video finishing
//   together) can lose one; writes there take a per-document lock (write-lock.ts). MongoDB
//   applies `$set` atomically and needs none.
//
// Kept on every server, so that the code MongoDB runs is the code the FerretDB tests cover:
// - `createIndexes`: one index per command (FerretDB 1.24 crashes on two or more at once).
// - `findOneAndUpdate`: never a projection (FerretDB 1.x rejects findAndModify's `fields`).
// - No `$lookup` or `$group` (FerretDB 1.x has neither): a job's videos are joined in code
//   (jobs.ts, readJob) and work in progress is counted per stage and status
//   (work-in-progress.ts).
// - No multi-document transactions (FerretDB 1.x has none; MongoDB only in a replica set): a
//   write that spans documents is ordered so that stopping half-way leaves nothing harmful
//   (videos.ts, deleteVideo), and a read of several collections is several reads (readJob).
import type { Collection, Db, Document, Filter, IndexDescription, UpdateFilter, WithId } from 'mongodb'

/** `'auto'` (the default): locks on FerretDB, none on MongoDB; a boolean forces it either way. */
export type LockWritesOption = 'auto' | boolean

/**
 * The server's answer to buildInfo as the adapter uses it, and the operations whose form it
 * dictates. Made by `MongoDialect.read` once the server answers.
 *
 * @example
 * const dialect = await MongoDialect.read(db, 'auto')
 * dialect.server // 'FerretDB 1.24.2' or 'MongoDB 8.0.4'
 * if (dialect.lockWrites) await locks.init()
 */
export class MongoDialect {
  /** What answered, with its version, for messages. */
  readonly server: string
  /** Whether every write to a job, video, channel or host first takes that document's lock. */
  readonly lockWrites: boolean

  private constructor(server: string, lockWrites: boolean) {
    this.server = server
    this.lockWrites = lockWrites
  }

  /**
   * Asks the server what it is. FerretDB says so in buildInfo (`ferretdbVersion`); every version
   * of it counts for `lockWrites: 'auto'`: only 1.x was tested, and a lock never hurts correctness.
   */
  static async read(db: Db, lockWrites: LockWritesOption): Promise<MongoDialect> {
    const info = await db.admin().command({ buildInfo: 1 })
    const ferretDb = info.ferretdbVersion !== undefined
    const server = ferretDb ? `FerretDB ${info.ferretdbVersion}` : `MongoDB ${info.version ?? 'of unknown version'}`
    return new MongoDialect(server, lockWrites === 'auto' ? ferretDb : lockWrites)
  }

  /**
   * Creates the indexes one per command, one after another: FerretDB 1.24 crashes on a
   * createIndexes that names two or more indexes already there (the second start of any
   * process), and creating collections (tables) in one database at once can conflict there.
   */
  async createIndexes<T extends Document>(
    collection: Collection<T>,
    indexes: readonly IndexDescription[],
  ): Promise<void> {
    for (const index of indexes) await collection.createIndexes([index])
  }

  /**
   * Updates one document and returns it as it is after, or null when none matched. No projection:
   * FerretDB 1.x rejects findAndModify's `fields`, so the caller drops `_id` when it maps the document.
   */
  findOneAndUpdate<T extends Document>(
    collection: Collection<T>,
    filter: Filter<T>,
    update: UpdateFilter<T>,
  ): Promise<WithId<T> | null> {
    return collection.findOneAndUpdate(filter, update, { returnDocument: 'after' })
  }
}
