// Jobs, videos, channel subscriptions and host politeness in one SQLite file (the embedded local
// mode). Every method is one statement or one transaction, so several processes can share the
// file (WAL, busy_timeout).
import type { DatabaseSync } from 'node:sqlite'
import { decodeCursor, pageOf } from '../cursor/index.ts'
import { assertLimit } from '../../limit/index.ts'
import { type LinkedVideoFacts, summarizeJob } from '../job-summary/index.ts'
import { assertStage, STAGES, videoStatus } from '../video-status/index.ts'
import {
  type ChannelOptions,
  changedChannelOptions,
  type HostState,
  isoTimestamp,
  newChannel,
  nextHostSlot,
} from '../channel-sync/index.ts'
import type {
  Channel,
  WorkInProgress,
  ChannelSyncOutcome,
  Handoff,
  ChannelSyncResult,
  DocumentStore,
  HostBackoff,
  HostSlot,
  Job,
  NewChannel,
  NewJob,
  NewVideo,
  Page,
  StaleQuery,
  Stage,
  StageState,
  StageStatus,
  TranscriptInfo,
  Video,
  VideoAvailability,
  VideoListQuery,
  VideoUpdate,
  AudioProgress,
  Chapter,
  LiveStatus,
} from '../../ports.ts'
import {
  asInteger,
  closeDatabase,
  openDatabase,
  optionalNumber,
  optionalString,
  transaction,
} from '../../sqlite/index.ts'

export interface SqliteDocumentStoreOptions {
  /** The database file; its parent directory is created. */
  path: string
  /** How long a write waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number
  /** The clock for createdAt/updatedAt. Default: the system clock. */
  now?: () => Date
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  job_id     TEXT PRIMARY KEY,
  url        TEXT NOT NULL,
  language   TEXT,
  force      INTEGER NOT NULL DEFAULT 0,
  discovered INTEGER NOT NULL DEFAULT 0,
  error      TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

-- A rowid table on purpose: ORDER BY rowid gives the order videos were linked (playlist order).
CREATE TABLE IF NOT EXISTS job_videos (
  job_id   TEXT NOT NULL,
  video_id TEXT NOT NULL,
  PRIMARY KEY (job_id, video_id)
) STRICT;
CREATE INDEX IF NOT EXISTS job_videos_by_video ON job_videos (video_id);

CREATE TABLE IF NOT EXISTS videos (
  video_id         TEXT PRIMARY KEY,
  url              TEXT NOT NULL,
  playlist_item    INTEGER,
  title            TEXT NOT NULL DEFAULT '',
  channel_id       TEXT,
  channel          TEXT,
  published_at     TEXT,
  duration_seconds REAL,
  language         TEXT,
  status           TEXT NOT NULL,  -- unused since version 4: the status is derived from stages on read
  stages           TEXT NOT NULL,  -- JSON: Record<Stage, StageState>
  generation       INTEGER NOT NULL DEFAULT 0,
  handoff          TEXT,           -- JSON: Handoff
  redrives         INTEGER NOT NULL DEFAULT 0,
  transcript       TEXT,           -- JSON: TranscriptInfo
  audio            TEXT,           -- JSON: AudioProgress
  availability     TEXT,           -- VideoAvailability; NULL: watchable
  live_status      TEXT,           -- LiveStatus
  skip_reason      TEXT,
  chapters         TEXT,           -- JSON: Chapter[]
  media_url        TEXT,           -- a media file a browser can play; never YouTube's
  chunk_count      INTEGER NOT NULL DEFAULT 0,
  error            TEXT,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS videos_by_created ON videos (created_at DESC, video_id);
CREATE INDEX IF NOT EXISTS videos_by_channel ON videos (channel_id, created_at DESC, video_id);

-- A rowid table on purpose: ORDER BY created_at, rowid lists subscriptions in the order they were made.
CREATE TABLE IF NOT EXISTS channels (
  channel_id             TEXT PRIMARY KEY,
  url                    TEXT NOT NULL,
  list_url               TEXT NOT NULL,
  title                  TEXT,
  languages              TEXT NOT NULL,  -- JSON: string[]
  speech_to_text         INTEGER NOT NULL,
  backfill               TEXT NOT NULL,  -- a count, or 'all'
  interval_seconds       REAL NOT NULL,
  next_sync_at           TEXT NOT NULL,
  last_sync_at           TEXT,
  last_outcome           TEXT,
  last_error             TEXT,
  consecutive_failures   INTEGER NOT NULL DEFAULT 0,
  videos_found_last_sync INTEGER,
  created_at             TEXT NOT NULL,
  updated_at             TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS channels_by_next_sync ON channels (next_sync_at, channel_id);

-- One row per host every process talks to: the latest reservation and any backoff.
CREATE TABLE IF NOT EXISTS hosts (
  host           TEXT PRIMARY KEY,
  last_slot      TEXT,
  backoff_until  TEXT,
  backoff_reason TEXT
) STRICT;
`

/** The schema's version; each step of MIGRATIONS brings a file one version up. */
const SCHEMA_VERSION = 6

/** What a file made by an older build needs, by the version it has. New tables come from SCHEMA itself. */
const MIGRATIONS: Record<number, string> = {
  1: 'ALTER TABLE videos ADD COLUMN audio TEXT',
  2: 'ALTER TABLE videos ADD COLUMN availability TEXT',
  3: `ALTER TABLE videos ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE videos ADD COLUMN handoff TEXT;
      ALTER TABLE videos ADD COLUMN redrives INTEGER NOT NULL DEFAULT 0;`,
  4: `ALTER TABLE videos ADD COLUMN live_status TEXT;
      ALTER TABLE videos ADD COLUMN skip_reason TEXT;
      ALTER TABLE videos ADD COLUMN chapters TEXT;`,
  5: 'ALTER TABLE videos ADD COLUMN media_url TEXT',
}

/** The VideoUpdate fields and their columns; nothing else can reach the SET clause (stages go through json_set). */
const UPDATE_COLUMNS = {
  handoff: 'handoff',
  redrives: 'redrives',
  title: 'title',
  channelId: 'channel_id',
  channel: 'channel',
  publishedAt: 'published_at',
  durationSeconds: 'duration_seconds',
  language: 'language',
  transcript: 'transcript',
  audio: 'audio',
  availability: 'availability',
  liveStatus: 'live_status',
  skipReason: 'skip_reason',
  chapters: 'chapters',
  mediaUrl: 'media_url',
  chunkCount: 'chunk_count',
  error: 'error',
} as const satisfies Record<Exclude<keyof VideoUpdate, 'stages'>, string>

/** The fields stored as JSON text. */
const JSON_FIELDS = new Set<keyof VideoUpdate>(['transcript', 'audio', 'handoff', 'chapters'])

type Row = Record<string, unknown>

const pendingStages = (at: string): Record<Stage, StageState> => ({
  download: { status: 'pending', updatedAt: at },
  transcribe: { status: 'pending', updatedAt: at },
  index: { status: 'pending', updatedAt: at },
})

function toVideo(row: Row): Video {
  const stages = JSON.parse(String(row.stages)) as Record<Stage, StageState>
  const video: Video = {
    videoId: String(row.video_id),
    url: String(row.url),
    title: String(row.title ?? ''),
    status: videoStatus(stages),
    stages,
    generation: optionalNumber(row.generation) ?? 0,
    redrives: optionalNumber(row.redrives) ?? 0,
    chunkCount: optionalNumber(row.chunk_count) ?? 0,
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  }
  const playlistItem = optionalNumber(row.playlist_item)
  if (playlistItem !== undefined) video.playlistItem = playlistItem
  const channelId = optionalString(row.channel_id)
  if (channelId !== undefined) video.channelId = channelId
  const channel = optionalString(row.channel)
  if (channel !== undefined) video.channel = channel
  const publishedAt = optionalString(row.published_at)
  if (publishedAt !== undefined) video.publishedAt = publishedAt
  const durationSeconds = optionalNumber(row.duration_seconds)
  if (durationSeconds !== undefined) video.durationSeconds = durationSeconds
  const language = optionalString(row.language)
  if (language !== undefined) video.language = language
  const transcript = optionalString(row.transcript)
  if (transcript !== undefined) video.transcript = JSON.parse(transcript) as TranscriptInfo
  const audio = optionalString(row.audio)
  if (audio !== undefined) video.audio = JSON.parse(audio) as AudioProgress
  const handoff = optionalString(row.handoff)
  if (handoff !== undefined) video.handoff = JSON.parse(handoff) as Handoff
  const availability = optionalString(row.availability)
  if (availability !== undefined) video.availability = availability as VideoAvailability
  const liveStatus = optionalString(row.live_status)
  if (liveStatus !== undefined) video.liveStatus = liveStatus as LiveStatus
  const skipReason = optionalString(row.skip_reason)
  if (skipReason !== undefined) video.skipReason = skipReason
  const chapters = optionalString(row.chapters)
  if (chapters !== undefined) video.chapters = JSON.parse(chapters) as Chapter[]
  const mediaUrl = optionalString(row.media_url)
  if (mediaUrl !== undefined) video.mediaUrl = mediaUrl
  const error = optionalString(row.error)
  if (error !== undefined) video.error = error
  return video
}

function toChannel(row: Row): Channel {
  const backfill = String(row.backfill)
  const channel: Channel = {
    channelId: String(row.channel_id),
    url: String(row.url),
    listUrl: String(row.list_url),
    languages: JSON.parse(String(row.languages)) as string[],
    speechToText: row.speech_to_text === 1,
    backfill: backfill === 'all' ? 'all' : Number(backfill),
    intervalSeconds: optionalNumber(row.interval_seconds) ?? 0,
    nextSyncAt: String(row.next_sync_at),
    consecutiveFailures: optionalNumber(row.consecutive_failures) ?? 0,
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  }
  const title = optionalString(row.title)
  if (title !== undefined) channel.title = title
  const lastSyncAt = optionalString(row.last_sync_at)
  if (lastSyncAt !== undefined) channel.lastSyncAt = lastSyncAt
  const lastOutcome = optionalString(row.last_outcome)
  if (lastOutcome !== undefined) channel.lastOutcome = lastOutcome as ChannelSyncOutcome
  const lastError = optionalString(row.last_error)
  if (lastError !== undefined) channel.lastError = lastError
  const videosFound = optionalNumber(row.videos_found_last_sync)
  if (videosFound !== undefined) channel.videosFoundLastSync = videosFound
  return channel
}

/** The ChannelOptions fields and their columns, with how each is stored. */
const CHANNEL_COLUMNS: {
  [K in keyof ChannelOptions]-?: [string, (value: NonNullable<ChannelOptions[K]>) => string | number]
} = {
  url: ['url', (value) => value],
  listUrl: ['list_url', (value) => value],
  title: ['title', (value) => value],
  languages: ['languages', (value) => JSON.stringify(value)],
  speechToText: ['speech_to_text', (value) => (value ? 1 : 0)],
  backfill: ['backfill', (value) => String(value)],
  intervalSeconds: ['interval_seconds', (value) => value],
}

/**
 * The DocumentStore of the embedded local mode, over `node:sqlite`.
 *
 * @example
 * const documents = new SqliteDocumentStore({ path: '.youtube-rag/documents.sqlite' })
 * await documents.createJob({ jobId, url })
 * const { created } = await documents.insertVideo({ videoId: 'dQw4w9WgXcQ', url })
 */
export class SqliteDocumentStore implements DocumentStore {
  readonly #db: DatabaseSync
  readonly #now: () => Date

  constructor({ path, busyTimeoutMs = 5000, now = () => new Date() }: SqliteDocumentStoreOptions) {
    this.#now = now
    this.#db = openDatabase({ path, busyTimeoutMs })
    try {
      transaction(this.#db, () => {
        const { user_version } = this.#db.prepare('PRAGMA user_version').get() as { user_version: number }
        if (user_version > SCHEMA_VERSION) {
          throw new Error(`${path} has schema version ${user_version}; this build knows up to ${SCHEMA_VERSION}`)
        }
        // An existing file is migrated before SCHEMA runs, so its new indexes find their columns.
        const existing = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'videos'").get()
        if (existing)
          for (let version = Math.max(user_version, 1); version < SCHEMA_VERSION; version++)
            this.#db.exec(MIGRATIONS[version]!)
        this.#db.exec(SCHEMA)
        this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
      })
    } catch (error) {
      closeDatabase(this.#db)
      throw error
    }
  }

  #timestamp(): string {
    return this.#now().toISOString()
  }

  async createJob({ jobId, url, language, force = false }: NewJob): Promise<Job> {
    const at = this.#timestamp()
    this.#db
      .prepare(
        `INSERT INTO jobs (job_id, url, language, force, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (job_id) DO NOTHING`,
      )
      .run(jobId, url, language ?? null, force ? 1 : 0, at, at)
    const job = this.#readJob(jobId)
    if (!job) throw new Error(`Job ${jobId} vanished right after it was created`)
    return job
  }

  async getJob(jobId: string): Promise<Job | undefined> {
    return this.#readJob(jobId)
  }

  #readJob(jobId: string): Job | undefined {
    // One read transaction, so the job and its videos come from the same snapshot.
    this.#db.exec('BEGIN')
    try {
      const row = this.#db.prepare('SELECT * FROM jobs WHERE job_id = ?').get(jobId)
      if (!row) return undefined
      const links = this.#db
        .prepare(
          `SELECT jv.video_id AS link, v.* FROM job_videos jv LEFT JOIN videos v ON v.video_id = jv.video_id
           WHERE jv.job_id = ? ORDER BY jv.rowid`,
        )
        .all(jobId)
      const videos = links.map((link): LinkedVideoFacts | undefined =>
        link.video_id === null ? undefined : toVideo(link),
      )
      const summary = summarizeJob(
        { discovered: row.discovered === 1, error: optionalString(row.error), updatedAt: String(row.updated_at) },
        videos,
      )
      const job: Job = {
        jobId: String(row.job_id),
        url: String(row.url),
        force: row.force === 1,
        ...summary,
        createdAt: String(row.created_at),
      }
      const language = optionalString(row.language)
      if (language !== undefined) job.language = language
      return job
    } finally {
      this.#db.exec('COMMIT')
    }
  }

  async listUndiscoveredJobs({ before, limit }: StaleQuery): Promise<Job[]> {
    assertLimit(limit)
    const rows = this.#db
      .prepare(
        'SELECT job_id FROM jobs WHERE discovered = 0 AND error IS NULL AND updated_at < ? ORDER BY updated_at, job_id LIMIT ?',
      )
      .all(isoTimestamp(before, 'before'), asInteger(limit))
    return rows.map((row) => this.#readJob(String(row.job_id))).filter((job): job is Job => job !== undefined)
  }

  async addJobVideos(jobId: string, videoIds: string[]): Promise<void> {
    transaction(this.#db, () => {
      if (!this.#db.prepare('SELECT 1 FROM jobs WHERE job_id = ?').get(jobId)) return
      const link = this.#db.prepare('INSERT INTO job_videos (job_id, video_id) VALUES (?, ?) ON CONFLICT DO NOTHING')
      let linked = 0
      for (const videoId of videoIds) linked += Number(link.run(jobId, videoId).changes)
      // Only a real change moves updatedAt, so a replayed event changes nothing.
      if (linked > 0) this.#db.prepare('UPDATE jobs SET updated_at = ? WHERE job_id = ?').run(this.#timestamp(), jobId)
    })
  }

  async markJobDiscovered(jobId: string): Promise<void> {
    this.#db
      .prepare('UPDATE jobs SET discovered = 1, updated_at = ? WHERE job_id = ? AND discovered = 0')
      .run(this.#timestamp(), jobId)
  }

  async failJob(jobId: string, message: string): Promise<void> {
    this.#db
      .prepare('UPDATE jobs SET error = ?, updated_at = ? WHERE job_id = ? AND error IS NOT ?')
      .run(message, this.#timestamp(), jobId, message)
  }

  async insertVideo(video: NewVideo): Promise<{ created: boolean; video: Video }> {
    const at = this.#timestamp()
    const { changes } = this.#db
      .prepare(
        `INSERT INTO videos (video_id, url, playlist_item, title, channel_id, channel, published_at, duration_seconds,
           language, status, stages, chunk_count, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, 0, ?, ?)
         ON CONFLICT (video_id) DO NOTHING`,
      )
      .run(
        video.videoId,
        video.url,
        video.playlistItem ?? null,
        video.title ?? '',
        video.channelId ?? null,
        video.channel ?? null,
        video.publishedAt ?? null,
        video.durationSeconds ?? null,
        video.language ?? null,
        JSON.stringify(pendingStages(at)),
        at,
        at,
      )
    const stored = await this.getVideo(video.videoId)
    if (!stored) throw new Error(`Video ${video.videoId} vanished right after it was inserted`)
    return { created: Number(changes) > 0, video: stored }
  }

  async getVideo(videoId: string): Promise<Video | undefined> {
    const row = this.#db.prepare('SELECT * FROM videos WHERE video_id = ?').get(videoId)
    return row ? toVideo(row) : undefined
  }

  async listVideos({ channelId, limit, cursor }: VideoListQuery): Promise<Page<Video>> {
    assertLimit(limit)
    const where: string[] = []
    const params: (string | bigint)[] = []
    if (channelId !== undefined) {
      where.push('channel_id = ?')
      params.push(channelId)
    }
    if (cursor !== undefined) {
      const [createdAt, videoId] = decodeCursor(cursor, 2) as [string, string]
      where.push('(created_at < ? OR (created_at = ? AND video_id > ?))')
      params.push(createdAt, createdAt, videoId)
    }
    // One row more than asked tells whether there is a next page without a second query.
    const rows = this.#db
      .prepare(
        `SELECT * FROM videos ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, video_id ASC LIMIT ?`,
      )
      .all(...params, asInteger(limit + 1))
    return pageOf(rows.map(toVideo), limit, (video) => [video.createdAt, video.videoId])
  }

  async updateVideo(
    videoId: string,
    stage: Stage,
    stageStatus: StageStatus,
    update: VideoUpdate = {},
    { generation }: { generation?: number } = {},
  ): Promise<Video | undefined> {
    // The stage becomes part of a JSON path, so it must be one of the known names.
    assertStage(stage)
    const { sets, params } = this.#stageSets(stage, stageStatus, update)
    const where = generation === undefined ? 'video_id = ?' : 'video_id = ? AND generation = ?'
    const keys = generation === undefined ? [videoId] : [videoId, generation]
    // One statement: the stage state and the fields land together or not at all.
    const row = this.#db
      .prepare(`UPDATE videos SET ${sets.join(', ')} WHERE ${where} RETURNING *`)
      .get(...params, ...keys)
    return row ? toVideo(row) : undefined
  }

  /** The SET clauses and their parameters for a stage's new state and the fields of `update`. */
  #stageSets(stage: Stage, stageStatus: StageStatus, update: VideoUpdate) {
    const at = this.#timestamp()
    const state: StageState = { status: stageStatus, updatedAt: at }
    if (stageStatus === 'failed' && typeof update.error === 'string') state.error = update.error
    // Every stage this step moves, in one json_set: they land together.
    const states: [Stage, StageState][] = [[stage, state]]
    for (const [other, status] of Object.entries(update.stages ?? {}) as [Stage, StageStatus][]) {
      assertStage(other)
      if (other !== stage) states.push([other, { status, updatedAt: at }])
    }
    const sets = [`stages = json_set(stages, ${states.map(() => '?, json(?)').join(', ')})`, 'updated_at = ?']
    const params: (string | number | null)[] = [
      ...states.flatMap(([name, value]) => [`$.${name}`, JSON.stringify(value)]),
      at,
    ]
    this.#fieldSets(update, sets, params)
    return { sets, params }
  }

  /** Adds the SET clauses of the plain fields of `update`. */
  #fieldSets(update: VideoUpdate, sets: string[], params: (string | number | null)[]) {
    for (const [field, column] of Object.entries(UPDATE_COLUMNS) as [keyof VideoUpdate, string][]) {
      const value = update[field]
      if (value === undefined) continue
      sets.push(`${column} = ?`)
      params.push(JSON_FIELDS.has(field) && value !== null ? JSON.stringify(value) : (value as string | number | null))
    }
  }

  async patchVideo(
    videoId: string,
    generation: number,
    update: Pick<VideoUpdate, 'handoff' | 'redrives'>,
  ): Promise<Video | undefined> {
    const sets = ['updated_at = ?']
    const params: (string | number | null)[] = [this.#timestamp()]
    this.#fieldSets({ handoff: update.handoff, redrives: update.redrives }, sets, params)
    const row = this.#db
      .prepare(`UPDATE videos SET ${sets.join(', ')} WHERE video_id = ? AND generation = ? RETURNING *`)
      .get(...params, videoId, generation)
    return row ? toVideo(row) : undefined
  }

  async listUnfinishedVideos({ before, limit }: StaleQuery): Promise<Video[]> {
    assertLimit(limit)
    const failed = STAGES.map((stage) => `json_extract(stages, '$.${stage}.status') != 'failed'`).join(' AND ')
    return this.#db
      .prepare(
        `SELECT * FROM videos WHERE json_extract(stages, '$.index.status') NOT IN ('done', 'skipped') AND ${failed} AND updated_at < ?
         ORDER BY updated_at, video_id LIMIT ?`,
      )
      .all(isoTimestamp(before, 'before'), asInteger(limit))
      .map(toVideo)
  }

  async recordTranscribedSegment(
    videoId: string,
    { index, seconds }: { index: number; seconds: number },
  ): Promise<Video | undefined> {
    return transaction(this.#db, () => {
      const row = this.#db.prepare('SELECT * FROM videos WHERE video_id = ?').get(videoId)
      if (!row) return undefined
      const video = toVideo(row)
      if (!video.audio) throw new Error(`video ${videoId} has no audio segments to record segment ${index} against`)
      if (video.audio.segmentsDone.includes(index)) return video
      const audio: AudioProgress = {
        ...video.audio,
        segmentsDone: [...video.audio.segmentsDone, index].sort((a, b) => a - b),
        secondsDone: video.audio.secondsDone + seconds,
      }
      const updated = this.#db
        .prepare('UPDATE videos SET audio = ?, updated_at = ? WHERE video_id = ? RETURNING *')
        .get(JSON.stringify(audio), this.#timestamp(), videoId)
      return updated ? toVideo(updated) : undefined
    })
  }

  async claimStage(
    videoId: string,
    stage: Stage,
    from: StageStatus,
    to: StageStatus,
    update: VideoUpdate = {},
  ): Promise<boolean> {
    assertStage(stage)
    const { sets, params } = this.#stageSets(stage, to, update)
    // One conditional statement: of racing callers, only the first still finds `from`.
    const result = this.#db
      .prepare(`UPDATE videos SET ${sets.join(', ')} WHERE video_id = ? AND json_extract(stages, ?) = ?`)
      .run(...params, videoId, `$.${stage}.status`, from)
    return Number(result.changes) === 1
  }

  async upsertChannel(channel: NewChannel): Promise<{ created: boolean; channel: Channel }> {
    const at = this.#timestamp()
    const fresh = newChannel(channel, at)
    return transaction(this.#db, () => {
      const row = this.#db.prepare('SELECT * FROM channels WHERE channel_id = ?').get(fresh.channelId)
      if (!row) {
        const inserted = this.#db
          .prepare(
            `INSERT INTO channels (channel_id, url, list_url, title, languages, speech_to_text, backfill, interval_seconds,
               next_sync_at, consecutive_failures, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING *`,
          )
          .get(
            fresh.channelId,
            fresh.url,
            fresh.listUrl,
            fresh.title ?? null,
            JSON.stringify(fresh.languages),
            fresh.speechToText ? 1 : 0,
            String(fresh.backfill),
            fresh.intervalSeconds,
            fresh.nextSyncAt,
            at,
            at,
          )
        return { created: true, channel: toChannel(inserted!) }
      }
      // Only the options given and different are written, so a replayed subscribe changes nothing.
      const changes = changedChannelOptions(toChannel(row), channel)
      if (!changes) return { created: false, channel: toChannel(row) }
      const sets = ['updated_at = ?']
      const params: (string | number)[] = [at]
      for (const [field, value] of Object.entries(changes) as [keyof ChannelOptions, never][]) {
        const [column, encode] = CHANNEL_COLUMNS[field]
        sets.push(`${column} = ?`)
        params.push(encode(value))
      }
      const updated = this.#db
        .prepare(`UPDATE channels SET ${sets.join(', ')} WHERE channel_id = ? RETURNING *`)
        .get(...params, fresh.channelId)
      return { created: false, channel: toChannel(updated!) }
    })
  }

  async getChannel(channelId: string): Promise<Channel | undefined> {
    const row = this.#db.prepare('SELECT * FROM channels WHERE channel_id = ?').get(channelId)
    return row ? toChannel(row) : undefined
  }

  async listChannels(): Promise<Channel[]> {
    return this.#db.prepare('SELECT * FROM channels ORDER BY created_at, rowid').all().map(toChannel)
  }

  async deleteChannel(channelId: string): Promise<boolean> {
    return Number(this.#db.prepare('DELETE FROM channels WHERE channel_id = ?').run(channelId).changes) > 0
  }

  async claimDueChannels(now: Date, leaseUntil: Date, limit: number): Promise<Channel[]> {
    assertLimit(limit)
    const nowIso = isoTimestamp(now, 'now')
    const lease = isoTimestamp(leaseUntil, 'leaseUntil')
    // One write transaction: another process's claim waits for it, then finds these leased.
    return transaction(this.#db, () => {
      const due = this.#db
        .prepare('SELECT channel_id FROM channels WHERE next_sync_at <= ? ORDER BY next_sync_at, channel_id LIMIT ?')
        .all(nowIso, asInteger(limit))
      const claim = this.#db.prepare(
        'UPDATE channels SET next_sync_at = ?, updated_at = ? WHERE channel_id = ? RETURNING *',
      )
      return due.map((row) => toChannel(claim.get(lease, nowIso, String(row.channel_id))!))
    })
  }

  async releaseChannelClaim(channelId: string, leaseUntil: Date, nextSyncAt: Date): Promise<boolean> {
    const { changes } = this.#db
      .prepare('UPDATE channels SET next_sync_at = ?, updated_at = ? WHERE channel_id = ? AND next_sync_at = ?')
      .run(isoTimestamp(nextSyncAt, 'nextSyncAt'), this.#timestamp(), channelId, isoTimestamp(leaseUntil, 'leaseUntil'))
    return Number(changes) === 1
  }

  async recordChannelSync(channelId: string, result: ChannelSyncResult): Promise<Channel | undefined> {
    const failures: Record<ChannelSyncOutcome, string> = {
      ok: '0',
      failed: 'consecutive_failures + 1',
      'rate-limited': 'consecutive_failures',
    }
    const change = failures[result.outcome]
    if (change === undefined) throw new RangeError(`Unknown sync outcome ${JSON.stringify(result.outcome)}`)
    // One statement: the counter moves on the stored value, so two records never lose one.
    const row = this.#db
      .prepare(
        `UPDATE channels SET last_sync_at = ?, last_outcome = ?, last_error = ?, consecutive_failures = ${change},
           videos_found_last_sync = COALESCE(?, videos_found_last_sync), next_sync_at = ?, updated_at = ?
         WHERE channel_id = ? RETURNING *`,
      )
      .get(
        isoTimestamp(result.at, 'at'),
        result.outcome,
        result.error ?? null,
        result.videosFound ?? null,
        isoTimestamp(result.nextSyncAt, 'nextSyncAt'),
        this.#timestamp(),
        channelId,
      )
    return row ? toChannel(row) : undefined
  }

  async reserveHostRequest(host: string, { now, spacingMs }: { now: Date; spacingMs: number }): Promise<HostSlot> {
    // One write transaction: of concurrent callers (other processes), each sees the slot the one before took.
    return transaction(this.#db, () => {
      const row = this.#db.prepare('SELECT * FROM hosts WHERE host = ?').get(host)
      const state: HostState | undefined = row && {
        lastSlot: optionalString(row.last_slot),
        backoffUntil: optionalString(row.backoff_until),
        backoffReason: optionalString(row.backoff_reason),
      }
      const { slot, reserve } = nextHostSlot(state, now, spacingMs)
      if (reserve !== undefined) {
        this.#db
          .prepare(
            'INSERT INTO hosts (host, last_slot) VALUES (?, ?) ON CONFLICT (host) DO UPDATE SET last_slot = excluded.last_slot',
          )
          .run(host, reserve)
      }
      return slot
    })
  }

  async backOffHost(host: string, until: Date, reason: string): Promise<void> {
    // The WHERE keeps a later backoff (and, for the same end, the first reason: a replay changes nothing).
    this.#db
      .prepare(
        `INSERT INTO hosts (host, backoff_until, backoff_reason) VALUES (?, ?, ?)
         ON CONFLICT (host) DO UPDATE SET backoff_until = excluded.backoff_until, backoff_reason = excluded.backoff_reason
         WHERE backoff_until IS NULL OR backoff_until < excluded.backoff_until`,
      )
      .run(host, isoTimestamp(until, 'until'), reason)
  }

  async hostBackoff(host: string, now: Date): Promise<HostBackoff | undefined> {
    const row = this.#db
      .prepare('SELECT backoff_until, backoff_reason FROM hosts WHERE host = ? AND backoff_until > ?')
      .get(host, isoTimestamp(now, 'now'))
    if (!row) return undefined
    const reason = optionalString(row.backoff_reason)
    return { until: String(row.backoff_until), ...(reason === undefined ? {} : { reason }) }
  }

  async resetVideo(videoId: string): Promise<Video | undefined> {
    const at = this.#timestamp()
    // The transcript and chunk count go too: a forced re-ingest must not cite the old ones.
    // Availability stays: a re-ingest does not make a private video watchable again.
    const row = this.#db
      .prepare(
        `UPDATE videos SET stages = ?, error = NULL, skip_reason = NULL, transcript = NULL, audio = NULL, handoff = NULL, redrives = 0,
           generation = generation + 1, chunk_count = 0, updated_at = ?
         WHERE video_id = ? RETURNING *`,
      )
      .get(JSON.stringify(pendingStages(at)), at, videoId)
    return row ? toVideo(row) : undefined
  }

  async deleteVideo(videoId: string): Promise<boolean> {
    return transaction(this.#db, () => {
      this.#db.prepare('DELETE FROM job_videos WHERE video_id = ?').run(videoId)
      return Number(this.#db.prepare('DELETE FROM videos WHERE video_id = ?').run(videoId).changes) > 0
    })
  }

  async workInProgress(now: Date): Promise<WorkInProgress> {
    const at = isoTimestamp(now, 'now')
    const unfinished = `json_extract(v.stages, '$.index.status') NOT IN ('done', 'skipped') AND ${STAGES.map((stage) => `json_extract(v.stages, '$.${stage}.status') != 'failed'`).join(' AND ')}`
    this.#db.exec('BEGIN')
    try {
      const videos = this.#db
        .prepare(
          STAGES.map(
            (stage) =>
              `SELECT '${stage}' AS stage, json_extract(stages, '$.${stage}.status') AS status, count(*) AS count FROM videos GROUP BY 2`,
          ).join(' UNION ALL '),
        )
        .all()
        .map((row) => ({ stage: row.stage as Stage, status: row.status as StageStatus, count: Number(row.count) }))
      // A job is active while discovery is pending or a linked video (or a link to a video not
      // written yet) is unfinished; it last changed when it or one of its videos did.
      const jobs = this.#db
        .prepare(
          `SELECT count(*) AS active, min(changed) AS oldest FROM (
             SELECT max(j.updated_at, coalesce((SELECT max(v.updated_at) FROM job_videos jv JOIN videos v ON v.video_id = jv.video_id WHERE jv.job_id = j.job_id), '')) AS changed
             FROM jobs j
             WHERE j.error IS NULL AND (j.discovered = 0 OR EXISTS (
               SELECT 1 FROM job_videos jv LEFT JOIN videos v ON v.video_id = jv.video_id
               WHERE jv.job_id = j.job_id AND (v.video_id IS NULL OR (${unfinished}))
             ))
           )`,
        )
        .get()!
      const hosts = this.#db.prepare('SELECT count(*) AS count FROM hosts WHERE backoff_until > ?').get(at)!
      const oldest = typeof jobs.oldest === 'string' ? Date.parse(jobs.oldest) : undefined
      return {
        activeJobs: Number(jobs.active),
        oldestActiveIdleSeconds: oldest === undefined ? 0 : Math.max(0, (now.getTime() - oldest) / 1000),
        videos,
        hostsBackedOff: Number(hosts.count),
      }
    } finally {
      this.#db.exec('COMMIT')
    }
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get()
  }

  async close(): Promise<void> {
    closeDatabase(this.#db)
  }
}
