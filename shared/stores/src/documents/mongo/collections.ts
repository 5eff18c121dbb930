// The collections of the MongoDB document store as stored: their documents' shapes, their
// indexes, and what every port's code needs to write them safely.
import { MongoBulkWriteError, MongoServerError } from 'mongodb'
import type { HostState } from '../channel-sync/index.ts'
import type { Channel, Video, VideoStatus } from '../../ports.ts'

export interface JobDocument {
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
export interface JobVideoDocument {
  jobId: string
  videoId: string
  /** With the driver-made ObjectId `_id`, the order videos were linked (playlist order). */
  linkedAt: string
}

/**
 * A video as stored: a Video without its derived `status`, with the fields documents of older
 * builds lack optional (read as 0) and the `status` they still carry.
 */
export type VideoDocument = Omit<Video, 'status' | 'generation' | 'redrives'> & {
  /** Not written since the status is derived from `stages` on read; documents of older builds have it. */
  status?: VideoStatus | undefined
  /** Absent on documents written before generations existed: 0. */
  generation?: number | undefined
  redrives?: number | undefined
}

/** A subscription: a Channel as it is, timestamps as ISO strings like everywhere else. */
export type ChannelDocument = Channel

/** A host's politeness state, shared by every replica. */
export interface HostDocument extends HostState {
  host: string
  /** Bumped by every write: a write conditional on it fails when another caller wrote in between. */
  revision: number
}

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

/** Drops undefined fields: the driver would store them as null, and SQLite's JSON drops them too. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T
}

/** Ids end up in query filters: an object there (`{ $gt: '' }`) would match other documents. */
export function assertId(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${typeof value}`)
}

/** Whether an error is only duplicate keys (11000): the write lost a race it may lose. */
export function isDuplicateKeyError(error: unknown): boolean {
  if (error instanceof MongoBulkWriteError) {
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors]
    return (
      error.err === undefined && writeErrors.length > 0 && writeErrors.every((writeError) => writeError.code === 11000)
    )
  }
  return error instanceof MongoServerError && error.code === 11000
}
