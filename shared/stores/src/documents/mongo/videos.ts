// VideoStore over MongoDB: videos and their stages, one document each in `videos`.
import type { UpdateFilter } from 'mongodb'
import { decodeCursor, pageOf } from '../cursor/index.ts'
import { assertLimit } from '../../limit/index.ts'
import { isoTimestamp } from '../channel-sync/index.ts'
import { assertStage, STAGES, videoStatus } from '../video-status/index.ts'
import type {
  NewVideo,
  Page,
  Stage,
  StageState,
  StageStatus,
  StaleQuery,
  Video,
  VideoListQuery,
  VideoStore,
  VideoUpdate,
} from '../../ports.ts'
import { assertId, isDuplicateKeyError, type VideoDocument, withoutUndefined } from './collections.ts'
import type { MongoConnection } from './connection.ts'

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

const pendingStages = (at: string): Record<Stage, StageState> => ({
  download: { status: 'pending', updatedAt: at },
  transcribe: { status: 'pending', updatedAt: at },
  index: { status: 'pending', updatedAt: at },
})

/** The filter of the videos still moving: neither indexed, skipped nor failed. */
export function unfinishedVideos(): Record<string, unknown> {
  const filter: Record<string, unknown> = {}
  for (const stage of STAGES)
    filter[`stages.${stage}.status`] = { $nin: stage === 'index' ? ['done', 'skipped', 'failed'] : ['failed'] }
  return filter
}

/** Maps a stored document to a Video: no `_id`, and a field that is absent or null is left out (as SQLite's NULL is). */
export function toVideo(doc: VideoDocument): Video {
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

/**
 * Videos in MongoDB. Every write is one atomic write (upsert, findOneAndUpdate, updateOne),
 * under the video's lock where the dialect asks for one.
 *
 * @example
 * const videos = new MongoVideoStore(new MongoConnection({ url, database: 'ytrag' }))
 * const { created } = await videos.insertVideo({ videoId: 'dQw4w9WgXcQ', url })
 */
export class MongoVideoStore implements VideoStore {
  readonly #mongo: MongoConnection

  constructor(mongo: MongoConnection) {
    this.#mongo = mongo
  }

  async insertVideo(video: NewVideo): Promise<{ created: boolean; video: Video }> {
    const { videoId } = video
    assertId(videoId, 'videoId')
    await this.#mongo.use()
    const at = this.#mongo.timestamp()
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
        (await this.#mongo.videos.updateOne({ videoId }, { $setOnInsert: fields }, { upsert: true })).upsertedCount > 0
    } catch (error) {
      // A concurrent insert of the same video won the unique index: this one did not create it.
      if (!isDuplicateKeyError(error)) throw error
    }
    const stored = await this.#mongo.videos.findOne({ videoId })
    if (!stored) throw new Error(`Video ${videoId} vanished right after it was inserted`)
    return { created, video: toVideo(stored) }
  }

  async getVideo(videoId: string): Promise<Video | undefined> {
    assertId(videoId, 'videoId')
    await this.#mongo.use()
    const doc = await this.#mongo.videos.findOne({ videoId })
    return doc ? toVideo(doc) : undefined
  }

  async listVideos({ channelId, limit, cursor }: VideoListQuery): Promise<Page<Video>> {
    assertLimit(limit)
    if (channelId !== undefined) assertId(channelId, 'channelId')
    await this.#mongo.use()
    const filter: Record<string, unknown> = {}
    if (channelId !== undefined) filter.channelId = channelId
    if (cursor !== undefined) {
      const [createdAt, videoId] = decodeCursor(cursor, 2) as [string, string]
      filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, videoId: { $gt: videoId } }]
    }
    // One document more than asked tells whether there is a next page without a second query.
    const docs = await this.#mongo.videos
      .find(filter)
      .sort({ createdAt: -1, videoId: 1 })
      .limit(limit + 1)
      .toArray()
    return pageOf(docs.map(toVideo), limit, (video) => [video.createdAt, video.videoId])
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
    assertStage(stage)
    const dialect = await this.#mongo.use()
    const change = this.#stageChange(stage, stageStatus, update)
    // One update: the stage state and the fields land together or not at all.
    const doc = await this.#mongo.exclusive(`videos:${videoId}`, () =>
      dialect.findOneAndUpdate(this.#mongo.videos, atGeneration(videoId, generation), change),
    )
    return doc ? toVideo(doc) : undefined
  }

  /** The update that sets a stage's new state and the fields of `update`. */
  #stageChange(stage: Stage, stageStatus: StageStatus, update: VideoUpdate): UpdateFilter<VideoDocument> {
    const at = this.#mongo.timestamp()
    const state: StageState = { status: stageStatus, updatedAt: at }
    if (stageStatus === 'failed' && typeof update.error === 'string') state.error = update.error
    // Only these stages' paths: another stage written at the same moment keeps its own state.
    const set: Record<string, unknown> = { [`stages.${stage}`]: state, updatedAt: at }
    for (const [other, status] of Object.entries(update.stages ?? {}) as [Stage, StageStatus][]) {
      assertStage(other)
      if (other !== stage) set[`stages.${other}`] = { status, updatedAt: at }
    }
    return fieldChange(update, set)
  }

  async patchVideo(
    videoId: string,
    generation: number,
    update: Pick<VideoUpdate, 'handoff' | 'redrives'>,
  ): Promise<Video | undefined> {
    assertId(videoId, 'videoId')
    const dialect = await this.#mongo.use()
    const change = fieldChange(
      { handoff: update.handoff, redrives: update.redrives },
      { updatedAt: this.#mongo.timestamp() },
    )
    const doc = await this.#mongo.exclusive(`videos:${videoId}`, () =>
      dialect.findOneAndUpdate(this.#mongo.videos, atGeneration(videoId, generation), change),
    )
    return doc ? toVideo(doc) : undefined
  }

  async listUnfinishedVideos({ before, limit }: StaleQuery): Promise<Video[]> {
    assertLimit(limit)
    await this.#mongo.use()
    const filter = { updatedAt: { $lt: isoTimestamp(before, 'before') }, ...unfinishedVideos() }
    const docs = await this.#mongo.videos.find(filter).sort({ updatedAt: 1, videoId: 1 }).limit(limit).toArray()
    return docs.map(toVideo)
  }

  async recordTranscribedSegment(
    videoId: string,
    { index, seconds }: { index: number; seconds: number },
  ): Promise<Video | undefined> {
    assertId(videoId, 'videoId')
    const dialect = await this.#mongo.use()
    const doc = await this.#mongo.exclusive(`videos:${videoId}`, async () => {
      // The filter makes it once only: a segment already in the list matches nothing.
      const updated = await dialect.findOneAndUpdate(
        this.#mongo.videos,
        { videoId, audio: { $exists: true }, 'audio.segmentsDone': { $ne: index } },
        {
          $addToSet: { 'audio.segmentsDone': index },
          $inc: { 'audio.secondsDone': seconds },
          $set: { updatedAt: this.#mongo.timestamp() },
        },
      )
      return updated ?? (await this.#mongo.videos.findOne({ videoId }))
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
    assertStage(stage)
    await this.#mongo.use()
    // A conditional update: of racing callers, only the first still finds `from`.
    const result = await this.#mongo.exclusive(`videos:${videoId}`, () =>
      this.#mongo.videos.updateOne({ videoId, [`stages.${stage}.status`]: from }, this.#stageChange(stage, to, update)),
    )
    return result.modifiedCount === 1
  }

  async resetVideo(videoId: string): Promise<Video | undefined> {
    assertId(videoId, 'videoId')
    const dialect = await this.#mongo.use()
    const at = this.#mongo.timestamp()
    // The transcript and chunk count go too: a forced re-ingest must not cite the old ones.
    // Availability stays: a re-ingest does not make a private video watchable again.
    const doc = await this.#mongo.exclusive(`videos:${videoId}`, () =>
      dialect.findOneAndUpdate(
        this.#mongo.videos,
        { videoId },
        {
          $set: { stages: pendingStages(at), chunkCount: 0, redrives: 0, updatedAt: at },
          $inc: { generation: 1 },
          $unset: { error: '', skipReason: '', transcript: '', audio: '', handoff: '' },
        },
      ),
    )
    return doc ? toVideo(doc) : undefined
  }

  async deleteVideo(videoId: string): Promise<boolean> {
    assertId(videoId, 'videoId')
    await this.#mongo.use()
    // Links first: should the second write never happen, a video without links is harmless,
    // while a link without its video would keep its job running for ever (no transaction: see dialect.ts).
    await this.#mongo.jobVideos.deleteMany({ videoId })
    return (await this.#mongo.videos.deleteOne({ videoId })).deletedCount > 0
  }
}

/** The update that sets (or, for null, unsets) the plain fields of `update` beside `set`. */
function fieldChange(update: VideoUpdate, set: Record<string, unknown>): UpdateFilter<VideoDocument> {
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

/** The filter of one video, at `generation` when given (0 also matches documents written before generations existed). */
function atGeneration(videoId: string, generation: number | undefined): Record<string, unknown> {
  if (generation === undefined) return { videoId }
  return generation === 0 ? { videoId, generation: { $in: [0, null] } } : { videoId, generation }
}
