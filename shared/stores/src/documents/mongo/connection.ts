// What the ports of the MongoDB document store share: the client, the collection handles, the
// clock, the dialect of the server (decided at init) and the write locks it may call for.
import { type Collection, type Db, MongoClient, type MongoClientOptions } from 'mongodb'
import {
  type ChannelDocument,
  type HostDocument,
  type JobDocument,
  type JobVideoDocument,
  MONGO_DOCUMENT_INDEXES,
  type VideoDocument,
} from './collections.ts'
import { type LockWritesOption, MongoDialect } from './dialect.ts'
import { WriteLocks } from './write-lock.ts'

interface CommonOptions {
  /** The database holding the `jobs`, `videos`, `job_videos`, `channels` and `hosts` collections. */
  database: string
  /** The clock for createdAt/updatedAt. Default: the system clock. */
  now?: () => Date
  /**
   * Whether each write to a job, video, channel or host first takes a short per-document lock
   * (a document in `locks`, unique on its key): needed where an update of a document is not
   * atomic (FerretDB 1.x; the why is in dialect.ts).
   * Default `'auto'`: on for FerretDB (told by `buildInfo`), off for MongoDB.
   */
  lockWrites?: LockWritesOption
  /** How long a write waits for another writer's lock before it fails. Default 10 000 ms. */
  lockTimeoutMs?: number
  /** After how long a lock whose holder never released it (it crashed) may be broken. Default 30 000 ms. */
  lockLeaseMs?: number
}

/**
 * Where the store's data lives: a URL (the store opens and closes its own client) or a client.
 *
 * @example
 * const own: MongoDocumentStoreOptions = { url: 'mongodb://127.0.0.1:27017/', database: 'ytrag' }
 * const shared: MongoDocumentStoreOptions = { client, database: 'ytrag' }
 */
export type MongoDocumentStoreOptions = CommonOptions &
  (
    | {
        /** A `mongodb://` or `mongodb+srv://` URL; the store opens its own client and closes it in `close()`. */
        url: string
        client?: undefined
        /** Options for the client the store opens (timeouts, TLS, pool size); they win over the URL's. */
        clientOptions?: MongoClientOptions
      }
    | {
        url?: undefined
        /** A client the caller owns (shared by several stores): `close()` leaves it open. */
        client: MongoClient
        clientOptions?: undefined
      }
  )

/**
 * One database of the document store, shared by the store of each port.
 *
 * @example
 * const mongo = new MongoConnection({ url, database: 'ytrag' })
 * await mongo.use() // initialised once, by whichever port writes first
 * await mongo.exclusive(`videos:${videoId}`, () => mongo.videos.updateOne({ videoId }, change))
 */
export class MongoConnection {
  readonly jobs: Collection<JobDocument>
  readonly jobVideos: Collection<JobVideoDocument>
  readonly videos: Collection<VideoDocument>
  readonly channels: Collection<ChannelDocument>
  readonly hosts: Collection<HostDocument>
  readonly #client: MongoClient
  readonly #ownsClient: boolean
  readonly #db: Db
  readonly #now: () => Date
  readonly #lockWrites: LockWritesOption
  readonly #locks: WriteLocks
  #ready: Promise<void> | undefined
  /** Set by init(). */
  #dialect: MongoDialect | undefined
  #closed = false

  constructor(options: MongoDocumentStoreOptions) {
    const {
      database,
      now = () => new Date(),
      lockWrites = 'auto',
      lockTimeoutMs = 10_000,
      lockLeaseMs = 30_000,
    } = options
    if (options.client) {
      this.#client = options.client
      this.#ownsClient = false
    } else {
      this.#client = new MongoClient(options.url, options.clientOptions)
      this.#ownsClient = true
    }
    this.#now = now
    this.#lockWrites = lockWrites
    this.#db = this.#client.db(database)
    this.jobs = this.#db.collection<JobDocument>('jobs')
    this.jobVideos = this.#db.collection<JobVideoDocument>('job_videos')
    this.videos = this.#db.collection<VideoDocument>('videos')
    this.channels = this.#db.collection<ChannelDocument>('channels')
    this.hosts = this.#db.collection<HostDocument>('hosts')
    this.#locks = new WriteLocks(this.#db, {
      timeoutMs: lockTimeoutMs,
      leaseMs: lockLeaseMs,
      where: () => this.#where(),
    })
  }

  /**
   * Reads the server's dialect and creates the indexes (idempotent: safe on every start, and
   * from several processes). Concurrent calls share one run; a failed run is retried by the next call.
   */
  init(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError())
    this.#ready ??= this.#initialize().catch((error: unknown) => {
      this.#ready = undefined
      throw error
    })
    return this.#ready
  }

  async #initialize(): Promise<void> {
    const dialect = await MongoDialect.read(this.#db, this.#lockWrites)
    for (const [name, indexes] of Object.entries(MONGO_DOCUMENT_INDEXES))
      await dialect.createIndexes(this.#db.collection(name), indexes)
    if (dialect.lockWrites) await this.#locks.init(dialect)
    this.#dialect = dialect
  }

  /**
   * Every method of every port starts here: a closed store fails like SQLite's, and the indexes
   * exist before the first write. Returns the server's dialect.
   */
  async use(): Promise<MongoDialect> {
    if (this.#closed) throw this.#closedError()
    await this.init()
    return this.#dialect!
  }

  /** The injected clock's now, as stored. */
  timestamp(): string {
    return this.#now().toISOString()
  }

  /** Runs a write to one document (`videos:<videoId>`, …) under its lock when the dialect asks for locks; otherwise as is. */
  exclusive<T>(key: string, write: () => Promise<T>): Promise<T> {
    if (!this.#dialect) throw new Error('MongoDB document store: a write before use() (init) finished')
    return this.#dialect.lockWrites ? this.#locks.hold(key, write) : write()
  }

  /**
   * Runs `{ ping: 1 }`; throws an error naming MongoDB and the hosts when the server cannot be
   * reached (after the client's serverSelectionTimeoutMS, 30 s unless set in the URL or options).
   */
  async ping(): Promise<void> {
    if (this.#closed) throw this.#closedError()
    try {
      await this.#db.command({ ping: 1 })
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new Error(`MongoDB (${this.#where()}) did not answer ping: ${reason}`, { cause: error })
    }
  }

  /** Closes the client the store opened (not one passed in). Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#ownsClient) await this.#client.close()
  }

  #closedError(): Error {
    return new Error(`MongoDB document store (${this.#where()}) is closed`)
  }

  /** Hosts and database for messages: never the URL, which may carry a password. */
  #where(): string {
    const hosts = this.#client.options.hosts.map((host) => host.toString()).join(',')
    return `${hosts || 'unknown host'}, database ${this.#db.databaseName}`
  }
}
