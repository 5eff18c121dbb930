// JobStore over MongoDB: a job is a document in `jobs` and its links to videos are documents in
// `job_videos`; its status and counts are derived on read by summarizeJob, like every adapter,
// so no stage ever updates a job.
import type { MongoBulkWriteError } from 'mongodb'
import { isoTimestamp } from '../channel-sync/index.ts'
import { type LinkedVideoFacts, summarizeJob } from '../job-summary/index.ts'
import { assertLimit } from '../../limit/index.ts'
import type { Job, JobStore, NewJob, StaleQuery } from '../../ports.ts'
import { assertId, isDuplicateKeyError, withoutUndefined } from './collections.ts'
import type { MongoConnection } from './connection.ts'
import { toVideo } from './videos.ts'

/**
 * Jobs in MongoDB. Every write is idempotent: a replayed one matches nothing or finds the
 * unique index in its way.
 *
 * @example
 * const jobs = new MongoJobStore(new MongoConnection({ url, database: 'ytrag' }))
 * await jobs.createJob({ jobId, url })
 */
export class MongoJobStore implements JobStore {
  readonly #mongo: MongoConnection

  constructor(mongo: MongoConnection) {
    this.#mongo = mongo
  }

  async createJob({ jobId, url, language, force = false }: NewJob): Promise<Job> {
    assertId(jobId, 'jobId')
    await this.#mongo.use()
    const at = this.#mongo.timestamp()
    const job = withoutUndefined({ url, language, force, discovered: false, createdAt: at, updatedAt: at })
    try {
      // $setOnInsert: a replayed create finds the job and changes nothing.
      await this.#mongo.jobs.updateOne({ jobId }, { $setOnInsert: job }, { upsert: true })
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
    await this.#mongo.use()
    return this.#readJob(jobId)
  }

  async #readJob(jobId: string): Promise<Job | undefined> {
    // Three reads, not one snapshot or a $lookup (see dialect.ts): MongoDB has snapshots only in
    // a replica set's transactions. A video moving on between the reads shows in the next read,
    // as it would a moment later anyway.
    const row = await this.#mongo.jobs.findOne({ jobId })
    if (!row) return undefined
    const links = await this.#mongo.jobVideos
      .find({ jobId }, { projection: { _id: 0, videoId: 1 } })
      .sort({ linkedAt: 1, _id: 1 })
      .toArray()
    const videoIds = links.map((link) => link.videoId)
    const found = videoIds.length ? await this.#mongo.videos.find({ videoId: { $in: videoIds } }).toArray() : []
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

  async listUndiscoveredJobs({ before, limit }: StaleQuery): Promise<Job[]> {
    assertLimit(limit)
    await this.#mongo.use()
    const rows = await this.#mongo.jobs
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
    await this.#mongo.use()
    if (!(await this.#mongo.jobs.findOne({ jobId }, { projection: { _id: 1 } }))) return
    // In first-seen order; the unique index drops what is already linked.
    const unique = [...new Set(videoIds)]
    if (unique.length === 0) return
    const at = this.#mongo.timestamp()
    let linked: number
    try {
      // Unordered, so one duplicate does not stop the rest.
      const links = unique.map((videoId) => ({ jobId, videoId, linkedAt: at }))
      linked = (await this.#mongo.jobVideos.insertMany(links, { ordered: false })).insertedCount
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error
      linked = (error as MongoBulkWriteError).insertedCount
    }
    // Only a real change moves updatedAt, so a replayed event changes nothing.
    if (linked > 0)
      await this.#mongo.exclusive(`jobs:${jobId}`, () =>
        this.#mongo.jobs.updateOne({ jobId }, { $set: { updatedAt: at } }),
      )
  }

  async markJobDiscovered(jobId: string): Promise<void> {
    assertId(jobId, 'jobId')
    await this.#mongo.use()
    // The filter makes a replay match nothing, so updatedAt stays.
    await this.#mongo.exclusive(`jobs:${jobId}`, () =>
      this.#mongo.jobs.updateOne(
        { jobId, discovered: false },
        { $set: { discovered: true, updatedAt: this.#mongo.timestamp() } },
      ),
    )
  }

  async failJob(jobId: string, message: string): Promise<void> {
    assertId(jobId, 'jobId')
    await this.#mongo.use()
    // $ne also matches a job with no error yet.
    await this.#mongo.exclusive(`jobs:${jobId}`, () =>
      this.#mongo.jobs.updateOne(
        { jobId, error: { $ne: message } },
        { $set: { error: message, updatedAt: this.#mongo.timestamp() } },
      ),
    )
  }
}
