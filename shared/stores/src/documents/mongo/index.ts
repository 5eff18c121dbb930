// Jobs, videos, channel subscriptions and host politeness in MongoDB (the production adapter),
// with exactly the behaviour of the SQLite store. Every method is one atomic write (upsert,
// findOneAndUpdate, updateOne) or a few reads; where a write depends on what was read (a claimed
// channel, a host's next slot) it is conditional on what was read, so of concurrent writers only
// one matches.
//
// A file per port (jobs.ts, videos.ts, channels.ts, hosts.ts) over one MongoConnection
// (connection.ts: the client, the collections of collections.ts, the clock); this class composes
// them into the DocumentStore. It also runs on FerretDB 1.x (what the tests use): what that
// changes is decided and explained in one place, dialect.ts.
import type {
  ChannelStore,
  DocumentStore,
  HostThrottleStore,
  JobStore,
  VideoStore,
  WorkInProgress,
} from '../../ports.ts'
import { MongoChannelStore } from './channels.ts'
import { MongoConnection, type MongoDocumentStoreOptions } from './connection.ts'
import { MongoHostThrottleStore } from './hosts.ts'
import { MongoJobStore } from './jobs.ts'
import { MongoVideoStore } from './videos.ts'
import { countWorkInProgress } from './work-in-progress.ts'

export { MONGO_DOCUMENT_INDEXES } from './collections.ts'
export type { MongoDocumentStoreOptions } from './connection.ts'

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
  readonly #mongo: MongoConnection
  readonly #jobs: MongoJobStore
  readonly #videos: MongoVideoStore
  readonly #channels: MongoChannelStore
  readonly #hosts: MongoHostThrottleStore

  constructor(options: MongoDocumentStoreOptions) {
    this.#mongo = new MongoConnection(options)
    this.#jobs = new MongoJobStore(this.#mongo)
    this.#videos = new MongoVideoStore(this.#mongo)
    this.#channels = new MongoChannelStore(this.#mongo)
    this.#hosts = new MongoHostThrottleStore(this.#mongo)
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
   * Asks the server what it is (which decides whether writes take locks) and creates the
   * indexes (idempotent: safe on every start, and from several processes). Concurrent calls
   * share one run; a failed run is retried by the next call.
   *
   * @example
   * const documents = new MongoDocumentStore({ url, database: 'ytrag' })
   * await documents.init()
   */
  init(): Promise<void> {
    return this.#mongo.init()
  }

  createJob(...args: Parameters<JobStore['createJob']>) {
    return this.#jobs.createJob(...args)
  }
  listUndiscoveredJobs(...args: Parameters<JobStore['listUndiscoveredJobs']>) {
    return this.#jobs.listUndiscoveredJobs(...args)
  }
  getJob(...args: Parameters<JobStore['getJob']>) {
    return this.#jobs.getJob(...args)
  }
  addJobVideos(...args: Parameters<JobStore['addJobVideos']>) {
    return this.#jobs.addJobVideos(...args)
  }
  markJobDiscovered(...args: Parameters<JobStore['markJobDiscovered']>) {
    return this.#jobs.markJobDiscovered(...args)
  }
  failJob(...args: Parameters<JobStore['failJob']>) {
    return this.#jobs.failJob(...args)
  }

  insertVideo(...args: Parameters<VideoStore['insertVideo']>) {
    return this.#videos.insertVideo(...args)
  }
  getVideo(...args: Parameters<VideoStore['getVideo']>) {
    return this.#videos.getVideo(...args)
  }
  listVideos(...args: Parameters<VideoStore['listVideos']>) {
    return this.#videos.listVideos(...args)
  }
  updateVideo(...args: Parameters<VideoStore['updateVideo']>) {
    return this.#videos.updateVideo(...args)
  }
  patchVideo(...args: Parameters<VideoStore['patchVideo']>) {
    return this.#videos.patchVideo(...args)
  }
  listUnfinishedVideos(...args: Parameters<VideoStore['listUnfinishedVideos']>) {
    return this.#videos.listUnfinishedVideos(...args)
  }
  recordTranscribedSegment(...args: Parameters<VideoStore['recordTranscribedSegment']>) {
    return this.#videos.recordTranscribedSegment(...args)
  }
  claimStage(...args: Parameters<VideoStore['claimStage']>) {
    return this.#videos.claimStage(...args)
  }
  resetVideo(...args: Parameters<VideoStore['resetVideo']>) {
    return this.#videos.resetVideo(...args)
  }
  deleteVideo(...args: Parameters<VideoStore['deleteVideo']>) {
    return this.#videos.deleteVideo(...args)
  }

  upsertChannel(...args: Parameters<ChannelStore['upsertChannel']>) {
    return this.#channels.upsertChannel(...args)
  }
  getChannel(...args: Parameters<ChannelStore['getChannel']>) {
    return this.#channels.getChannel(...args)
  }
  listChannels() {
    return this.#channels.listChannels()
  }
  deleteChannel(...args: Parameters<ChannelStore['deleteChannel']>) {
    return this.#channels.deleteChannel(...args)
  }
  claimDueChannels(...args: Parameters<ChannelStore['claimDueChannels']>) {
    return this.#channels.claimDueChannels(...args)
  }
  releaseChannelClaim(...args: Parameters<ChannelStore['releaseChannelClaim']>) {
    return this.#channels.releaseChannelClaim(...args)
  }
  recordChannelSync(...args: Parameters<ChannelStore['recordChannelSync']>) {
    return this.#channels.recordChannelSync(...args)
  }

  reserveHostRequest(...args: Parameters<HostThrottleStore['reserveHostRequest']>) {
    return this.#hosts.reserveHostRequest(...args)
  }
  backOffHost(...args: Parameters<HostThrottleStore['backOffHost']>) {
    return this.#hosts.backOffHost(...args)
  }
  hostBackoff(...args: Parameters<HostThrottleStore['hostBackoff']>) {
    return this.#hosts.hostBackoff(...args)
  }

  workInProgress(now: Date): Promise<WorkInProgress> {
    return countWorkInProgress(this.#mongo, now)
  }

  /**
   * Runs `{ ping: 1 }`; throws an error naming MongoDB and the hosts when the server cannot be
   * reached (after the client's serverSelectionTimeoutMS, 30 s unless set in the URL or options).
   *
   * @example
   * await documents.ping() // in a readiness probe
   */
  ping(): Promise<void> {
    return this.#mongo.ping()
  }

  /** Closes the client the store opened (not one passed in). Safe to call twice. */
  close(): Promise<void> {
    return this.#mongo.close()
  }
}
