// Jobs, videos, channel subscriptions and host politeness in MongoDB (the production adapter),
// with exactly the behaviour of the SQLite store. Every method is one atomic write (upsert,
// findOneAndUpdate, updateOne) or a few reads; where a write depends on what was read (a claimed
// channel, a host's next slot) it is conditional on what was read, so of concurrent writers only
// one matches. Job status and counts are derived on read by summarizeJob, like every adapter, so
// no stage ever updates a job.
//
// It also runs on FerretDB 1.x (what the tests use), which lacks some of MongoDB: the one
// behavioural difference is handled by `lockWrites`; the rest are noted where they are avoided
// (no transactions, no $lookup, no findAndModify projection, one index per createIndexes).
import { randomUUID } from 'node:crypto'
import {
  type Collection,
  type Db,
  MongoBulkWriteError,
  MongoClient,
  type MongoClientOptions,
  MongoServerError,
  type UpdateFilter,
} from 'mongodb'
import { decodeCursor, encodeCursor } from '../cursor/index.ts'
import { changedChannelOptions, type HostState, isoTimestamp, newChannel, nextHostSlot } from '../channel-sync/index.ts'
import { type LinkedVideoFacts, summarizeJob } from '../job-summary/index.ts'
import { STAGES, videoStatus } from '../video-status/index.ts'
import type {
  WorkInProgress,
  Channel,
  ChannelSyncOutcome,
  ChannelSyncResult,
  DocumentStore,
  HostBackoff,
  HostSlot,
  Job,
  NewChannel,
  NewVideo,
  Page,
  Stage,
  StageState,
  StageStatus,
  Video,
  VideoStatus,
  VideoUpdate,
} from '../../ports.ts'

interface CommonOptions {
  /** The database holding the `jobs`, `videos`, `job_videos`, `channels` and `hosts` collections. */
  database: string
  /** The clock for createdAt/updatedAt. Default: the system clock. */
  now?: () => Date
  /**
   * Whether each write to a job, video, channel or host first takes a short per-document lock
   * (a document in `locks`, unique on its key). FerretDB 1.x applies an update by reading the
   * whole document and writing all of it back, so two concurrent updates of one document (two
   * stages of one video finishing together) can lose one; MongoDB applies `$set` atomically and
   * needs none.
   * Default `'auto'`: on for FerretDB (told by `buildInfo`), off for MongoDB.
   */
  lockWrites?: 'auto' | boolean
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

interface JobDocument {
  jobId: string
  url: string
  language?: string | undefined
  force: boolean
  /** Set by markJobDiscovered: tells an empty job from one not listed yet. */
  discovered: boolean
  /** Set by failJob. */
  error?: string | undefined
  createdAt: string
  updatedAt: string
}

/** One job ↔ video link. A collection of its own with a unique (jobId, videoId) index, so a
 * replayed event cannot link a video twice and a big playlist never grows the job document. */
interface JobVideoDocument {
  jobId: string
  videoId: string
  /** With the driver-made ObjectId `_id`, the order videos were linked (playlist order). */
  linkedAt: string
}

/**
 * A video as stored: a Video without its derived `status`, with the fields documents of older
 * builds lack optional (read as 0) and the `status` they still carry.
 */
type VideoDocument = Omit<Video, 'status' | 'generation' | 'redrives'> & {
  /** Not written since the status is derived from `stages` on read; documents of older builds have it. */
  status?: VideoStatus | undefined
  /** Absent on documents written before generations existed: 0. */
  generation?: number | undefined
  redrives?: number | undefined
}

/** A subscription: a Channel as it is, timestamps as ISO strings like everywhere else. */
type ChannelDocument = Channel

/** A host's politeness state, shared by every replica. */
interface HostDocument extends HostState {
  host: string
  /** Bumped by every write: a write conditional on it fails when another caller wrote in between. */
  revision: number
}

interface LockDocument {
  /** Unique per acquisition, so breaking a stale lock can never delete its successor. */
  _id: string
  /** `videos:<videoId>`, `jobs:<jobId>`, `channels:<channelId>` or `hosts:<host>`; unique. */
  key: string
  expiresAt: Date
}

/**
 * The VideoUpdate fields updateVideo may set; nothing else reaches `$set` (an untyped caller
 * cannot write `videoId` or an operator). `satisfies` makes a new VideoUpdate field a compile error here.
 */
const UPDATE_FIELDS = Object.keys({
  handoff: true,
  redrives: true,
  title: true,
  channelId: true,
  channel: true,
  publishedAt: true,
  durationSeconds: true,
  language: true,
  transcript: true,
  audio: true,
  availability: true,
  liveStatus: true,
  skipReason: true,
  chapters: true,
  mediaUrl: true,
  chunkCount: true,
  error: true,
} satisfies Record<Exclude<keyof VideoUpdate, 'stages'>, true>) as Exclude<keyof VideoUpdate, 'stages'>[]

/**
 * The indexes `init()` creates, by collection. Names are fixed, so creating them again is a no-op.
 *
 * @example
 * for (const index of MONGO_DOCUMENT_INDEXES.videos) console.log(index.name, index.key)
 */
export const MONGO_DOCUMENT_INDEXES = {
  videos: [
    // A duplicate "video discovered" event can never create a second video.
    { key: { videoId: 1 }, name: 'videoId_unique', unique: true },
    // listVideos: newest first, ties by videoId, with and without the channel filter.
    { key: { createdAt: -1, videoId: 1 }, name: 'createdAt_videoId' },
    { key: { channelId: 1, createdAt: -1, videoId: 1 }, name: 'channelId_createdAt_videoId' },
    // listUnfinishedVideos: the reaper's scan, oldest change first.
    { key: { updatedAt: 1, videoId: 1 }, name: 'updatedAt_videoId' },
  ],
  jobs: [
    { key: { jobId: 1 }, name: 'jobId_unique', unique: true },
    // listUndiscoveredJobs: the reaper's scan of jobs whose discovery never finished.
    { key: { discovered: 1, updatedAt: 1 }, name: 'discovered_updatedAt' },
  ],
  job_videos: [
    { key: { jobId: 1, videoId: 1 }, name: 'jobId_videoId_unique', unique: true },
    // deleteVideo removes a video's links from every job.
    { key: { videoId: 1 }, name: 'videoId' },
  ],
  channels: [
    // A replayed subscribe can never create a second subscription.
    { key: { channelId: 1 }, name: 'channelId_unique', unique: true },
    // claimDueChannels: the due ones, oldest due first.
    { key: { nextSyncAt: 1 }, name: 'nextSyncAt' },
  ],
  hosts: [{ key: { host: 1 }, name: 'host_unique', unique: true }],
} as const

const LOCK_INDEX = { key: { key: 1 }, name: 'key_unique', unique: true } as const

const pendingStages = (at: string): Record<Stage, StageState> => ({
  download: { status: 'pending', updatedAt: at },
  transcribe: { status: 'pending', updatedAt: at },
  index: { status: 'pending', updatedAt: at },
})

/** Drops undefined fields: the driver would store them as null, and SQLite's JSON drops them too. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T
}

/** Ids end up in query filters: an object there (`{ $gt: '' }`) would match other documents. */
function assertId(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${typeof value}`)
}

/** Whether an error is only duplicate keys (11000): the write lost a race it may lose. */
function isDuplicateKeyError(error: unknown): boolean {
  if (error instanceof MongoBulkWriteError) {
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]
    return (
      error.err === undefined && writeErrors.length > 0 && writeErrors.every((writeError) => writeError.code === 11000)
    )
  }
  return error instanceof MongoServerError && error.code === 11000
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Maps a stored document to a Video: no `_id`, and a field that is absent or null is left out (as SQLite's NULL is). */
function toVideo(doc: VideoDocument): Video {
  const video: Video = {
    videoId: doc.videoId,
    url: doc.url,
    title: doc.title ?? '',
    status: videoStatus(doc.stages),
    stages: doc.stages,
    generation: doc.generation ?? 0,
    redrives: doc.redrives ?? 0,
    chunkCount: doc.chunkCount ?? 0,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  }
  if (doc.playlistItem != null) video.playlistItem = doc.playlistItem
  if (doc.channelId != null) video.channelId = doc.channelId
  if (doc.channel != null) video.channel = doc.channel
  if (doc.publishedAt != null) video.publishedAt = doc.publishedAt
  if (doc.durationSeconds != null) video.durationSeconds = doc.durationSeconds
  if (doc.language != null) video.language = doc.language
  if (doc.transcript != null) video.transcript = doc.transcript
  if (doc.audio != null) video.audio = { ...doc.audio, segmentsDone: [...doc.audio.segmentsDone].sort((a, b) => a - b) }
  if (doc.availability != null) video.availability = doc.availability
  if (doc.liveStatus != null) video.liveStatus = doc.liveStatus
  if (doc.skipReason != null) video.skipReason = doc.skipReason
  if (doc.chapters != null) video.chapters = doc.chapters
  if (doc.mediaUrl != null) video.mediaUrl = doc.mediaUrl
  if (doc.handoff != null) video.handoff = doc.handoff
  if (doc.error != null) video.error = doc.error
  return video
}

/** Maps a stored subscription to a Channel: no `_id`, absent or null optional fields left out. */
function toChannel(doc: ChannelDocument): Channel {
  const channel: Channel = {
    channelId: doc.channelId,
    url: doc.url,
    listUrl: doc.listUrl,
    languages: doc.languages ?? [],
    speechToText: doc.speechToText === true,
    backfill: doc.backfill,
    intervalSeconds: doc.intervalSeconds,
    nextSyncAt: doc.nextSyncAt,
    consecutiveFailures: doc.consecutiveFailures ?? 0,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  }
  if (doc.title != null) channel.title = doc.title
  if (doc.lastSyncAt != null) channel.lastSyncAt = doc.lastSyncAt
  if (doc.lastOutcome != null) channel.lastOutcome = doc.lastOutcome
  if (doc.lastError != null) channel.lastError = doc.lastError
  if (doc.videosFoundLastSync != null) channel.videosFoundLastSync = doc.videosFoundLastSync
  return channel
}

/** Whether a stored host state has one of its fields; a field absent or null is not there. */
function toHostState(doc: HostDocument | null): HostState | undefined {
  if (!doc) return undefined
  const state: HostState = {}
  if (doc.lastSlot != null) state.lastSlot = doc.lastSlot
  if (doc.backoffUntil != null) state.backoffUntil = doc.backoffUntil
  if (doc.backoffReason != null) state.backoffReason = doc.backoffReason
  return state
}

/**
 * The DocumentStore of the production deployment, over MongoDB (or FerretDB).
 *
 * Construct it and call `init()` once at start-up (or use `MongoDocumentStore.connect`), which
 * creates the indexes; every method also waits for it, so a forgotten `init()` costs nothing.
 *
 * @example
 * const documents = await MongoDocumentStore.connect({ url: process.env.MONGODB_URL!, database: 'ytrag' })
 * await documents.createJob({ jobId, url })
 * const { created } = await documents.insertVideo({ videoId: 'dQw4w9WgXcQ', url })
 * await documents.close()
 */
export class MongoDocumentStore implements DocumentStore {
  readonly #client: MongoClient
  readonly #ownsClient: boolean
  readonly #db: Db
  readonly #jobs: Collection<JobDocument>
  readonly #jobVideos: Collection<JobVideoDocument>
  readonly #videos: Collection<VideoDocument>
  readonly #channels: Collection<ChannelDocument>
  readonly #hosts: Collection<HostDocument>
  readonly #locks: Collection<LockDocument>
  readonly #now: () => Date
  readonly #lockWrites: 'auto' | boolean
  readonly #lockTimeoutMs: number
  readonly #lockLeaseMs: number
  #ready: Promise<void> | undefined
  /** Decided by init(): whether writes take a per-document lock. */
  #locking = false
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
    this.#lockTimeoutMs = lockTimeoutMs
    this.#lockLeaseMs = lockLeaseMs
    this.#db = this.#client.db(database)
    this.#jobs = this.#db.collection<JobDocument>('jobs')
    this.#jobVideos = this.#db.collection<JobVideoDocument>('job_videos')
    this.#videos = this.#db.collection<VideoDocument>('videos')
    this.#channels = this.#db.collection<ChannelDocument>('channels')
    this.#hosts = this.#db.collection<HostDocument>('hosts')
    this.#locks = this.#db.collection<LockDocument>('locks')
  }

  /**
   * Opens a store and initialises it; closes its client again if that fails.
   *
   * @example
   * const documents = await MongoDocumentStore.connect({ url: 'mongodb://127.0.0.1:27017/', database: 'ytrag' })
   */
  static async connect(options: MongoDocumentStoreOptions): Promise<MongoDocumentStore> {
    const store = new MongoDocumentStore(options)
    try {
      await store.init()
    } catch (error) {
      await store.close()
      throw error
    }
    return store
  }

  /**
   * Creates the indexes (idempotent: safe on every start, and from several processes) and
   * decides whether writes take locks. Concurrent calls share one run; a failed run is retried
   * by the next call.
   *
   * @example
   * const documents = new MongoDocumentStore({ url, database: 'ytrag' })
   * await documents.init()
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
    // One index per command, one after another: FerretDB 1.24 crashes on a createIndexes that
    // names two or more indexes already there (the second start of any process), and creating
    // collections (tables) in one database at once can conflict there.
    for (const [name, indexes] of Object.entries(MONGO_DOCUMENT_INDEXES)) {
      for (const index of indexes) await this.#db.collection(name).createIndexes([index])
    }
    this.#locking = this.#lockWrites === 'auto' ? await this.#isFerretDb() : this.#lockWrites
    if (this.#locking) await this.#locks.createIndexes([LOCK_INDEX])
  }

  /** FerretDB says so in buildInfo. All versions count: only 1.x was tested, and a lock never hurts correctness. */
  async #isFerretDb(): Promise<boolean> {
    const info = await this.#db.admin().command({ buildInfo: 1 })
    return info.ferretdbVersion !== undefined
  }

  /** Every method starts here: a closed store fails like SQLite's, and indexes exist before the first write. */
  async #use(): Promise<void> {
    if (this.#closed) throw this.#closedError()
    await this.init()
  }

  #closedError(): Error {
    return new Error(`MongoDB document store (${this.#where()}) is closed`)
  }

  /** Hosts and database for messages: never the URL, which may carry a password. */
  #where(): string {
    const hosts = this.#client.options.hosts.map((host) => host.toString()).join(',')
    return `${hosts || 'unknown host'}, database ${this.#db.databaseName}`
  }

  #timestamp(): string {
    return this.#now().toISOString()
  }

  /**
   * Runs a write under the document's lock when `lockWrites` is on; otherwise runs it as is.
   * The lock is a document with a unique key: inserting it is atomic on every server.
   */
  async #exclusive<T>(key: string, write: () => Promise<T>): Promise<T> {
    if (!this.#locking) return write()
    const token = await this.#lock(key)
    try {
      return await write()
    } finally {
      // A failed release only delays the next writer until the lease runs out.
      await this.#locks.deleteOne({ _id: token }).catch(() => undefined)
    }
  }

  async #lock(key: string): Promise<string> {
    const token = randomUUID()
    // Real time, not `now`: an injected (fixed) clock must not make every lease stale or eternal.
    const deadline = Date.now() + this.#lockTimeoutMs
    let pause = 2
    for (;;) {
      try {
        await this.#locks.insertOne({ _id: token, key, expiresAt: new Date(Date.now() + this.#lockLeaseMs) })
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
          `MongoDB document store: waited ${this.#lockTimeoutMs} ms for the write lock on ${key} (${this.#where()})`,
        )
      }
      // Jittered backoff, so waiters do not retry in lockstep.
      await sleep(pause * (0.5 + Math.random()))
      pause = Math.min(pause * 2, 50)
    }
  }

  async createJob({
    jobId,
    url,
    language,
    force = false,
  }: {
    jobId: string
    url: string
    language?: string
    force?: boolean
  }): Promise<Job> {
    assertId(jobId, 'jobId')
    await this.#use()
    const at = this.#timestamp()
    const job = withoutUndefined({ url, language, force, discovered: false, createdAt: at, updatedAt: at })
    try {
      // $setOnInsert: a replayed create finds the job and changes nothing.
      await this.#jobs.updateOne({ jobId }, { $setOnInsert: job }, { upsert: true })
    } catch (error) {
      // Two concurrent upserts can both miss and one then trips the unique index: the job exists.
      if (!isDuplicateKeyError(error)) throw error
    }
    const created = await this.#readJob(jobId)
    if (!created) throw new Error(`Job ${jobId} vanished right after it was created`)
    return created
  }

  async getJob(jobId: string): Promise<Job | undefined> {
    assertId(jobId, 'jobId')
    await this.#use()
    return this.#readJob(jobId)
  }

  async #readJob(jobId: string): Promise<Job | undefined> {
    // Three reads, not one snapshot: MongoDB has snapshots only in a replica set's transactions,
    // and FerretDB 1.x has no transactions (nor $lookup). A video moving on between the reads
    // shows in the next read, as it would a moment later anyway.
    const row = await this.#jobs.findOne({ jobId })
    if (!row) return undefined
    const links = await this.#jobVideos
      .find({ jobId }, { projection: { _id: 0, videoId: 1 } })
      .sort({ linkedAt: 1, _id: 1 })
      .toArray()
    const videoIds = links.map((link) => link.videoId)
    const found = videoIds.length ? await this.#videos.find({ videoId: { $in: videoIds } }).toArray() : []
    const byId = new Map(found.map((doc) => [doc.videoId, toVideo(doc)]))
    // A link whose video is not inserted yet counts as still running, as in SQLite's LEFT JOIN.
    const videos = videoIds.map((videoId): LinkedVideoFacts | undefined => byId.get(videoId))
    const summary = summarizeJob(
      { discovered: row.discovered === true, error: row.error ?? undefined, updatedAt: row.updatedAt },
      videos,
    )
    const job: Job = { jobId: row.jobId, url: row.url, force: row.force === true, ...summary, createdAt: row.createdAt }
    if (row.language != null) job.language = row.language
    return job
  }

  async listUndiscoveredJobs({ before, limit }: { before: Date; limit: number }): Promise<Job[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
    await this.#use()
    const rows = await this.#jobs
      .find(
        { discovered: false, error: { $exists: false }, updatedAt: { $lt: isoTimestamp(before, 'before') } },
        { projection: { _id: 0, jobId: 1 } },
      )
      .sort({ updatedAt: 1, jobId: 1 })
      .limit(limit)
      .toArray()
    const jobs = await Promise.all(rows.map((row) => this.#readJob(row.jobId)))
    return jobs.filter((job): job is Job => job !== undefined)
  }

  async addJobVideos(jobId: string, videoIds: string[]): Promise<void> {
    assertId(jobId, 'jobId')
    for (const videoId of videoIds) assertId(videoId, 'videoId')
    await this.#use()
    if (!(await this.#jobs.findOne({ jobId }, { projection: { _id: 1 } }))) return
    // In first-seen order; the unique index drops what is already linked.
    const unique = [...new Set(videoIds)]
    if (unique.length === 0) return
    const at = this.#timestamp()
    let linked: number
    try {
      // Unordered, so one duplicate does not stop the rest.
      const links = unique.map((videoId) => ({ jobId, videoId, linkedAt: at }))
      linked = (await this.#jobVideos.insertMany(links, { ordered: false })).insertedCount
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error
      linked = (error as MongoBulkWriteError).insertedCount
    }
    // Only a real change moves updatedAt, so a replayed event changes nothing.
    if (linked > 0)
      await this.#exclusive(`jobs:${jobId}`, () => this.#jobs.updateOne({ jobId }, { $set: { updatedAt: at } }))
  }

  async markJobDiscovered(jobId: string): Promise<void> {
    assertId(jobId, 'jobId')
    await this.#use()
    // The filter makes a replay match nothing, so updatedAt stays.
    await this.#exclusive(`jobs:${jobId}`, () =>
      this.#jobs.updateOne({ jobId, discovered: false }, { $set: { discovered: true, updatedAt: this.#timestamp() } }),
    )
  }

  async failJob(jobId: string, message: string): Promise<void> {
    assertId(jobId, 'jobId')
    await this.#use()
    // $ne also matches a job with no error yet.
    await this.#exclusive(`jobs:${jobId}`, () =>
      this.#jobs.updateOne(
        { jobId, error: { $ne: message } },
        { $set: { error: message, updatedAt: this.#timestamp() } },
      ),
    )
  }

  async insertVideo(video: NewVideo): Promise<{ created: boolean; video: Video }> {
    const { videoId } = video
    assertId(videoId, 'videoId')
    await this.#use()
    const at = this.#timestamp()
    // videoId comes from the filter; naming it in $setOnInsert too would be a conflict on some servers.
    const fields = withoutUndefined({
      url: video.url,
      playlistItem: video.playlistItem,
      title: video.title ?? '',
      channelId: video.channelId,
      channel: video.channel,
      publishedAt: video.publishedAt,
      durationSeconds: video.durationSeconds,
      language: video.language,
      stages: pendingStages(at),
      generation: 0,
      redrives: 0,
      chunkCount: 0,
      createdAt: at,
      updatedAt: at,
    })
    let created = false
    try {
      // An upsert that only sets on insert: an existing video is never overwritten, and
      // "created" is whether this very call inserted it.
      created =
        (await this.#videos.updateOne({ videoId }, { $setOnInsert: fields }, { upsert: true })).upsertedCount > 0
    } catch (error) {
      // A concurrent insert of the same video won the unique index: this one did not create it.
      if (!isDuplicateKeyError(error)) throw error
    }
    const stored = await this.#videos.findOne({ videoId })
    if (!stored) throw new Error(`Video ${videoId} vanished right after it was inserted`)
    return { created, video: toVideo(stored) }
  }

  async getVideo(videoId: string): Promise<Video | undefined> {
    assertId(videoId, 'videoId')
    await this.#use()
    const doc = await this.#videos.findOne({ videoId })
    return doc ? toVideo(doc) : undefined
  }

  async listVideos({
    channelId,
    limit,
    cursor,
  }: {
    channelId?: string
    limit: number
    cursor?: string
  }): Promise<Page<Video>> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
    if (channelId !== undefined) assertId(channelId, 'channelId')
    await this.#use()
    const filter: Record<string, unknown> = {}
    if (channelId !== undefined) filter.channelId = channelId
    if (cursor !== undefined) {
      const [createdAt, videoId] = decodeCursor(cursor, 2) as [string, string]
      filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, videoId: { $gt: videoId } }]
    }
    // One document more than asked tells whether there is a next page without a second query.
    const docs = await this.#videos
      .find(filter)
      .sort({ createdAt: -1, videoId: 1 })
      .limit(limit + 1)
      .toArray()
    const items = docs.slice(0, limit).map(toVideo)
    const last = items.at(-1)
    return { items, nextCursor: docs.length > limit && last ? encodeCursor([last.createdAt, last.videoId]) : null }
  }

  async updateVideo(
    videoId: string,
    stage: Stage,
    stageStatus: StageStatus,
    update: VideoUpdate = {},
    { generation }: { generation?: number } = {},
  ): Promise<Video | undefined> {
    assertId(videoId, 'videoId')
    // The stage becomes part of a field path, so it must be one of the known names.
    if (!STAGES.includes(stage)) throw new RangeError(`Unknown stage ${JSON.stringify(stage)}`)
    await this.#use()
    const change = this.#stageChange(stage, stageStatus, update)
    // One update: the stage state and the fields land together or not at all. No projection:
    // FerretDB 1.x rejects findAndModify's `fields`; toVideo drops `_id` instead.
    const doc = await this.#exclusive(`videos:${videoId}`, () =>
      this.#videos.findOneAndUpdate(this.#atGeneration(videoId, generation), change, { returnDocument: 'after' }),
    )
    return doc ? toVideo(doc) : undefined
  }

  /** The update that sets a stage's new state and the fields of `update`. */
  #stageChange(stage: Stage, stageStatus: StageStatus, update: VideoUpdate): UpdateFilter<VideoDocument> {
    const at = this.#timestamp()
    const state: StageState = { status: stageStatus, updatedAt: at }
    if (stageStatus === 'failed' && typeof update.error === 'string') state.error = update.error
    // Only these stages' paths: another stage written at the same moment keeps its own state.
    const set: Record<string, unknown> = { [`stages.${stage}`]: state, updatedAt: at }
    for (const [other, status] of Object.entries(update.stages ?? {}) as [Stage, StageStatus][]) {
      if (!STAGES.includes(other)) throw new RangeError(`Unknown stage ${JSON.stringify(other)}`)
      if (other !== stage) set[`stages.${other}`] = { status, updatedAt: at }
    }
    return this.#fieldChange(update, set)
  }

  /** The update that sets (or, for null, unsets) the plain fields of `update` beside `set`. */
  #fieldChange(update: VideoUpdate, set: Record<string, unknown>): UpdateFilter<VideoDocument> {
    const unset: Record<string, ''> = {}
    for (const field of UPDATE_FIELDS) {
      const value = update[field]
      if (value === undefined) continue
      // null clears a field (error: null), as SQLite's NULL does. A list (chapters) is stored as
      // it is: withoutUndefined would turn it into an object keyed "0", "1", ….
      if (value === null) unset[field] = ''
      else if (Array.isArray(value)) set[field] = value.map((item: object) => withoutUndefined(item))
      else set[field] = typeof value === 'object' ? withoutUndefined(value) : value
    }
    return (Object.keys(unset).length ? { $set: set, $unset: unset } : { $set: set }) as UpdateFilter<VideoDocument>
  }

  async patchVideo(
    videoId: string,
    generation: number,
    update: Pick<VideoUpdate, 'handoff' | 'redrives'>,
  ): Promise<Video | undefined> {
    assertId(videoId, 'videoId')
    await this.#use()
    const change = this.#fieldChange(
      { handoff: update.handoff, redrives: update.redrives },
      { updatedAt: this.#timestamp() },
    )
    const doc = await this.#exclusive(`videos:${videoId}`, () =>
      this.#videos.findOneAndUpdate(this.#atGeneration(videoId, generation), change, { returnDocument: 'after' }),
    )
    return doc ? toVideo(doc) : undefined
  }

  /** The filter of one video, at `generation` when given (0 also matches documents written before generations existed). */
  #atGeneration(videoId: string, generation: number | undefined): Record<string, unknown> {
    if (generation === undefined) return { videoId }
    return generation === 0 ? { videoId, generation: { $in: [0, null] } } : { videoId, generation }
  }

  async listUnfinishedVideos({ before, limit }: { before: Date; limit: number }): Promise<Video[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
    await this.#use()
    const filter: Record<string, unknown> = { updatedAt: { $lt: isoTimestamp(before, 'before') } }
    for (const stage of STAGES)
      filter[`stages.${stage}.status`] = { $nin: stage === 'index' ? ['done', 'skipped', 'failed'] : ['failed'] }
    const docs = await this.#videos.find(filter).sort({ updatedAt: 1, videoId: 1 }).limit(limit).toArray()
    return docs.map(toVideo)
  }

  async recordTranscribedSegment(
    videoId: string,
    { index, seconds }: { index: number; seconds: number },
  ): Promise<Video | undefined> {
    assertId(videoId, 'videoId')
    await this.#use()
    const doc = await this.#exclusive(`videos:${videoId}`, async () => {
      // The filter makes it once only: a segment already in the list matches nothing.
      const updated = await this.#videos.findOneAndUpdate(
        { videoId, audio: { $exists: true }, 'audio.segmentsDone': { $ne: index } },
        {
          $addToSet: { 'audio.segmentsDone': index },
          $inc: { 'audio.secondsDone': seconds },
          $set: { updatedAt: this.#timestamp() },
        },
        { returnDocument: 'after' },
      )
      return updated ?? (await this.#videos.findOne({ videoId }))
    })
    if (doc && !doc.audio) throw new Error(`video ${videoId} has no audio segments to record segment ${index} against`)
    return doc ? toVideo(doc) : undefined
  }

  async claimStage(
    videoId: string,
    stage: Stage,
    from: StageStatus,
    to: StageStatus,
    update: VideoUpdate = {},
  ): Promise<boolean> {
    assertId(videoId, 'videoId')
    if (!STAGES.includes(stage)) throw new RangeError(`Unknown stage ${JSON.stringify(stage)}`)
    await this.#use()
    // A conditional update: of racing callers, only the first still finds `from`.
    const result = await this.#exclusive(`videos:${videoId}`, () =>
      this.#videos.updateOne({ videoId, [`stages.${stage}.status`]: from }, this.#stageChange(stage, to, update)),
    )
    return result.modifiedCount === 1
  }

  async upsertChannel(channel: NewChannel): Promise<{ created: boolean; channel: Channel }> {
    assertId(channel.channelId, 'channelId')
    await this.#use()
    const { channelId } = channel
    const fresh = newChannel(channel, this.#timestamp())
    return this.#exclusive(`channels:${channelId}`, async () => {
      for (;;) {
        const existing = await this.#channels.findOne({ channelId })
        if (!existing) {
          try {
            // A copy: the driver adds `_id` to what it inserts.
            await this.#channels.insertOne({ ...fresh })
            return { created: true, channel: fresh }
          } catch (error) {
            // A concurrent subscribe won the unique index: update the one it made instead.
            if (!isDuplicateKeyError(error)) throw error
            continue
          }
        }
        // Only the options given and different are written, so a replayed subscribe changes nothing.
        const changes = changedChannelOptions(toChannel(existing), channel)
        if (!changes) return { created: false, channel: toChannel(existing) }
        // $set of the options given only: the sync state a concurrent sync records stays.
        const updated = await this.#channels.findOneAndUpdate(
          { channelId },
          { $set: { ...changes, updatedAt: fresh.updatedAt } },
          { returnDocument: 'after' },
        )
        // Deleted in between: subscribe it again.
        if (updated) return { created: false, channel: toChannel(updated) }
      }
    })
  }

  async getChannel(channelId: string): Promise<Channel | undefined> {
    assertId(channelId, 'channelId')
    await this.#use()
    const doc = await this.#channels.findOne({ channelId })
    return doc ? toChannel(doc) : undefined
  }

  async listChannels(): Promise<Channel[]> {
    await this.#use()
    // _id (an ObjectId, increasing) breaks ties in the order they were inserted, like SQLite's rowid.
    return (await this.#channels.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map(toChannel)
  }

  async deleteChannel(channelId: string): Promise<boolean> {
    assertId(channelId, 'channelId')
    await this.#use()
    return (
      (await this.#exclusive(`channels:${channelId}`, () => this.#channels.deleteOne({ channelId }))).deletedCount > 0
    )
  }

  async claimDueChannels(now: Date, leaseUntil: Date, limit: number): Promise<Channel[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
    const nowIso = isoTimestamp(now, 'now')
    const lease = isoTimestamp(leaseUntil, 'leaseUntil')
    await this.#use()
    const claimed: Channel[] = []
    // Every channel looked at once: one a concurrent caller took is not looked for again.
    const seen: string[] = []
    while (claimed.length < limit) {
      const due = await this.#channels
        .find({ nextSyncAt: { $lte: nowIso }, channelId: { $nin: seen } })
        .sort({ nextSyncAt: 1, channelId: 1 })
        .limit(limit - claimed.length)
        .toArray()
      if (due.length === 0) break
      for (const { channelId, nextSyncAt } of due) {
        seen.push(channelId)
        // Conditional on the nextSyncAt read: of concurrent callers, only the first still finds it.
        const taken = await this.#exclusive(`channels:${channelId}`, () =>
          this.#channels.findOneAndUpdate(
            { channelId, nextSyncAt },
            { $set: { nextSyncAt: lease, updatedAt: nowIso } },
            { returnDocument: 'after' },
          ),
        )
        if (taken) claimed.push(toChannel(taken))
      }
    }
    return claimed
  }

  async releaseChannelClaim(channelId: string, leaseUntil: Date, nextSyncAt: Date): Promise<boolean> {
    assertId(channelId, 'channelId')
    await this.#use()
    const filter = { channelId, nextSyncAt: isoTimestamp(leaseUntil, 'leaseUntil') }
    const change = { $set: { nextSyncAt: isoTimestamp(nextSyncAt, 'nextSyncAt'), updatedAt: this.#timestamp() } }
    const result = await this.#exclusive(`channels:${channelId}`, () => this.#channels.updateOne(filter, change))
    return result.modifiedCount === 1
  }

  async recordChannelSync(channelId: string, result: ChannelSyncResult): Promise<Channel | undefined> {
    assertId(channelId, 'channelId')
    const outcomes: ChannelSyncOutcome[] = ['ok', 'failed', 'rate-limited']
    if (!outcomes.includes(result.outcome))
      throw new RangeError(`Unknown sync outcome ${JSON.stringify(result.outcome)}`)
    await this.#use()
    const set: Record<string, unknown> = {
      lastSyncAt: isoTimestamp(result.at, 'at'),
      lastOutcome: result.outcome,
      nextSyncAt: isoTimestamp(result.nextSyncAt, 'nextSyncAt'),
      updatedAt: this.#timestamp(),
    }
    if (result.outcome === 'ok') set.consecutiveFailures = 0
    if (result.videosFound !== undefined) set.videosFoundLastSync = result.videosFound
    if (result.error !== undefined) set.lastError = result.error
    // One update: $inc counts on the stored value, so two records never lose one.
    const change: UpdateFilter<ChannelDocument> = { $set: set }
    if (result.outcome === 'failed') change.$inc = { consecutiveFailures: 1 }
    if (result.error === undefined) change.$unset = { lastError: '' }
    const doc = await this.#exclusive(`channels:${channelId}`, () =>
      this.#channels.findOneAndUpdate({ channelId }, change, { returnDocument: 'after' }),
    )
    return doc ? toChannel(doc) : undefined
  }

  async reserveHostRequest(host: string, { now, spacingMs }: { now: Date; spacingMs: number }): Promise<HostSlot> {
    assertId(host, 'host')
    await this.#use()
    return this.#updateHost(host, (state) => {
      const { slot, reserve } = nextHostSlot(state, now, spacingMs)
      return { result: slot, set: reserve === undefined ? undefined : { lastSlot: reserve } }
    })
  }

  async backOffHost(host: string, until: Date, reason: string): Promise<void> {
    assertId(host, 'host')
    const backoffUntil = isoTimestamp(until, 'until')
    await this.#use()
    // An equal or later backoff stays (for the same end, the first reason: a replay changes nothing).
    await this.#updateHost(host, (state) => ({
      result: undefined,
      set:
        state?.backoffUntil !== undefined && state.backoffUntil >= backoffUntil
          ? undefined
          : { backoffUntil, backoffReason: reason },
    }))
  }

  async hostBackoff(host: string, now: Date): Promise<HostBackoff | undefined> {
    assertId(host, 'host')
    await this.#use()
    const doc = await this.#hosts.findOne({ host, backoffUntil: { $gt: isoTimestamp(now, 'now') } })
    if (!doc?.backoffUntil) return undefined
    return { until: doc.backoffUntil, ...(doc.backoffReason == null ? {} : { reason: doc.backoffReason }) }
  }

  /**
   * Reads the host's state, decides from it, and writes that decision only if no other caller
   * wrote in between (conditional on `revision`); otherwise reads again. MongoDB has no atomic
   * "max of a stored time plus spacing", so a compare-and-set is how concurrent callers of
   * several replicas each get their own slot.
   */
  async #updateHost<T>(
    host: string,
    decide: (state: HostState | undefined) => { result: T; set: Partial<HostState> | undefined },
  ): Promise<T> {
    return this.#exclusive(`hosts:${host}`, async () => {
      for (;;) {
        const doc = await this.#hosts.findOne({ host })
        const { result, set } = decide(toHostState(doc))
        if (!set) return result
        if (!doc) {
          try {
            await this.#hosts.insertOne({ host, revision: 1, ...set })
            return result
          } catch (error) {
            // Another caller made the host first: decide again from what it wrote.
            if (!isDuplicateKeyError(error)) throw error
            continue
          }
        }
        const { modifiedCount } = await this.#hosts.updateOne(
          { host, revision: doc.revision },
          { $set: set, $inc: { revision: 1 } },
        )
        if (modifiedCount === 1) return result
      }
    })
  }

  async resetVideo(videoId: string): Promise<Video | undefined> {
    assertId(videoId, 'videoId')
    await this.#use()
    const at = this.#timestamp()
    // The transcript and chunk count go too: a forced re-ingest must not cite the old ones.
    // Availability stays: a re-ingest does not make a private video watchable again.
    const doc = await this.#exclusive(`videos:${videoId}`, () =>
      this.#videos.findOneAndUpdate(
        { videoId },
        {
          $set: { stages: pendingStages(at), chunkCount: 0, redrives: 0, updatedAt: at },
          $inc: { generation: 1 },
          $unset: { error: '', skipReason: '', transcript: '', audio: '', handoff: '' },
        },
        { returnDocument: 'after' },
      ),
    )
    return doc ? toVideo(doc) : undefined
  }

  async deleteVideo(videoId: string): Promise<boolean> {
    assertId(videoId, 'videoId')
    await this.#use()
    // Links first: should the second write never happen, a video without links is harmless,
    // while a link without its video would keep its job running for ever. (No transaction:
    // FerretDB 1.x has none, and MongoDB has them only in a replica set.)
    await this.#jobVideos.deleteMany({ videoId })
    return (await this.#videos.deleteOne({ videoId })).deletedCount > 0
  }

  /**
   * Runs `{ ping: 1 }`; throws an error naming MongoDB and the hosts when the server cannot be
   * reached (after the client's serverSelectionTimeoutMS, 30 s unless set in the URL or options).
   *
   * @example
   * await documents.ping() // in a readiness probe
   */
  async workInProgress(now: Date): Promise<WorkInProgress> {
    await this.#use()
    // Counts per stage and status rather than $group, and joins in code: FerretDB 1.x has no $lookup.
    const statuses: StageStatus[] = ['pending', 'running', 'done', 'failed', 'skipped']
    const pairs = STAGES.flatMap((stage) => statuses.map((status) => ({ stage, status })))
    const counts = await Promise.all(
      pairs.map(({ stage, status }) => this.#videos.countDocuments({ [`stages.${stage}.status`]: status })),
    )
    const videos = pairs.map((pair, index) => ({ ...pair, count: counts[index]! })).filter((entry) => entry.count > 0)
    const unfinishedFilter: Record<string, unknown> = {}
    for (const stage of STAGES)
      unfinishedFilter[`stages.${stage}.status`] = {
        $nin: stage === 'index' ? ['done', 'skipped', 'failed'] : ['failed'],
      }
    const unfinished = await this.#videos.find(unfinishedFilter, { projection: { _id: 0, videoId: 1 } }).toArray()
    const busyJobIds = unfinished.length
      ? (
          await this.#jobVideos
            .find({ videoId: { $in: unfinished.map((video) => video.videoId) } }, { projection: { _id: 0, jobId: 1 } })
            .toArray()
        ).map((link) => link.jobId)
      : []
    const active = await this.#jobs
      .find(
        {
          error: { $exists: false },
          $or: [{ discovered: { $ne: true } }, { jobId: { $in: [...new Set(busyJobIds)] } }],
        },
        { projection: { _id: 0, jobId: 1, updatedAt: 1 } },
      )
      .toArray()
    // A job last changed when it or one of its videos did.
    const changed = new Map(active.map((job) => [job.jobId, job.updatedAt]))
    if (active.length > 0) {
      const links = await this.#jobVideos
        .find({ jobId: { $in: [...changed.keys()] } }, { projection: { _id: 0, jobId: 1, videoId: 1 } })
        .toArray()
      const linked = links.length
        ? await this.#videos
            .find(
              { videoId: { $in: links.map((link) => link.videoId) } },
              { projection: { _id: 0, videoId: 1, updatedAt: 1 } },
            )
            .toArray()
        : []
      const videoChanged = new Map(linked.map((video) => [video.videoId, video.updatedAt]))
      for (const link of links) {
        const at = videoChanged.get(link.videoId)
        if (at && at > changed.get(link.jobId)!) changed.set(link.jobId, at)
      }
    }
    const oldest = Math.min(...[...changed.values()].map((at) => Date.parse(at)))
    const hostsBackedOff = await this.#hosts.countDocuments({ backoffUntil: { $gt: isoTimestamp(now, 'now') } })
    return {
      activeJobs: active.length,
      oldestActiveIdleSeconds: active.length === 0 ? 0 : Math.max(0, (now.getTime() - oldest) / 1000),
      videos,
      hostsBackedOff,
    }
  }

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
}
