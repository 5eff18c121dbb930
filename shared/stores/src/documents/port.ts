// The documents port: jobs, videos, channels and host throttling, each a port of its own, and
// DocumentStore, all four in one database (what every adapter implements).
import type {
  AudioProgress,
  Channel,
  ChannelDefaults,
  ChannelSyncOutcome,
  Chapter,
  Handoff,
  Job,
  LiveStatus,
  NewVideo,
  Stage,
  StageStatus,
  TranscriptInfo,
  Video,
  VideoAvailability,
} from '@ytrag/domain'

/** What a stage writes back about a video as it finishes or fails. */
export interface VideoUpdate {
  /** Other stages' states written in the same step (a stage that finishes skips the next). */
  stages?: Partial<Record<Stage, StageStatus>> | undefined
  /** What the step sends on, recorded before it is sent; null clears it. */
  handoff?: Handoff | null | undefined
  redrives?: number | undefined
  title?: string | undefined
  channelId?: string | undefined
  channel?: string | undefined
  publishedAt?: string | undefined
  durationSeconds?: number | undefined
  language?: string | undefined
  transcript?: TranscriptInfo | undefined
  /** Set when the audio is cut into segments (with nothing done yet); null clears it. */
  audio?: AudioProgress | null | undefined
  /** null: watchable again. */
  availability?: VideoAvailability | null | undefined
  liveStatus?: LiveStatus | undefined
  /** null clears it. */
  skipReason?: string | null | undefined
  chapters?: Chapter[] | undefined
  /** The media file a browser can play, as the page last offered it; null clears it (the page no longer does). */
  mediaUrl?: string | null | undefined
  chunkCount?: number | undefined
  error?: string | null | undefined
}

/**
 * A subscribe. An option it leaves out takes `defaults` on a new subscription and keeps its
 * stored value on an existing one, so subscribing again with only the URL changes nothing.
 */
export interface NewChannel {
  channelId: string
  url: string
  listUrl: string
  title?: string | undefined
  languages?: string[] | undefined
  speechToText?: boolean | undefined
  backfill?: number | 'all' | undefined
  intervalSeconds?: number | undefined
  /** Applied only when the subscription is created (the caller's configuration). */
  defaults: ChannelDefaults
  /** When a new subscription first syncs; an existing one keeps its schedule. */
  nextSyncAt: string
}

export interface ChannelSyncResult {
  outcome: ChannelSyncOutcome
  /** When the sync ran (ISO 8601). */
  at: string
  nextSyncAt: string
  videosFound?: number
  error?: string
}

/** The per-host politeness every replica shares. */
export interface HostSlot {
  /** When the caller may send its request (ISO 8601): now, or later to keep the spacing or a backoff. */
  at: string
  /** Set while the host is backed off (it answered 429): the caller should not send at all before then. */
  backoffUntil?: string
  backoffReason?: string
}

/** The pipeline's work in progress, counted by the document store. */
export interface WorkInProgress {
  /** Jobs not finished: not failed as a whole, and discovery not done or a linked video neither indexed, skipped nor failed. */
  activeJobs: number
  /** How long the active job that changed least recently (itself or one of its videos) has not changed; 0 when none is active. */
  oldestActiveIdleSeconds: number
  /** Videos by stage and that stage's status (only the pairs that occur). */
  videos: { stage: Stage; status: StageStatus; count: number }[]
  /** Hosts backed off at `now`. */
  hostsBackedOff: number
}

/** A host left alone until `until` (ISO 8601), and why. */
export interface HostBackoff {
  until: string
  reason?: string
}

/** A job as a request starts it. */
export interface NewJob {
  jobId: string
  url: string
  language?: string
  /** Ingest again what is already indexed. */
  force?: boolean
}

/** A page of videos: newest first, of one channel or all, after `cursor` (a page's `nextCursor`). */
export interface VideoListQuery {
  channelId?: string
  limit: number
  cursor?: string
}

/** The reaper's scan: what has not changed since `before`, oldest change first, at most `limit`. */
export interface StaleQuery {
  before: Date
  limit: number
}

export interface Page<T> {
  items: T[]
  nextCursor: string | null
}

/**
 * Jobs: what a request follows. Its status and counts are derived on read from its videos.
 * Every write is idempotent: replaying it changes nothing.
 */
export interface JobStore {
  createJob(job: NewJob): Promise<Job>
  /**
   * Jobs whose discovery has not finished (nor failed) and that have not changed since `before`,
   * oldest first: the reaper's candidates.
   */
  listUndiscoveredJobs(query: StaleQuery): Promise<Job[]>
  getJob(jobId: string): Promise<Job | undefined>
  /** Links videos to a job (a video already linked stays linked once). */
  addJobVideos(jobId: string, videoIds: string[]): Promise<void>
  /** Records that discovery is done, so an empty job can be told from one not yet listed. */
  markJobDiscovered(jobId: string): Promise<void>
  /** A failure of the job as a whole (discovery failed); the message shows in `errors`. */
  failJob(jobId: string, message: string): Promise<void>
}

/**
 * Videos and their stages: what each step of the pipeline starts, finishes and hands on.
 * Every write is idempotent: replaying it changes nothing.
 */
export interface VideoStore {
  /** Creates the video if it is new; returns whether it was. Never overwrites an existing one. */
  insertVideo(video: NewVideo): Promise<{ created: boolean; video: Video }>
  getVideo(videoId: string): Promise<Video | undefined>
  listVideos(query: VideoListQuery): Promise<Page<Video>>
  /**
   * Sets one stage's state and the video's fields in one write. With `generation`, only while the
   * video is still at that generation: a step that began before a reset must not finish the new run.
   * Returns the video after, undefined when it does not exist (or is at another generation).
   */
  updateVideo(
    videoId: string,
    stage: Stage,
    stageStatus: StageStatus,
    update?: VideoUpdate,
    options?: { generation?: number },
  ): Promise<Video | undefined>
  /**
   * Writes fields without moving a stage, only while the video is still at `generation` (a reset
   * in between makes it a no-op); returns the video after, undefined when nothing was written.
   */
  patchVideo(
    videoId: string,
    generation: number,
    update: Pick<VideoUpdate, 'handoff' | 'redrives'>,
  ): Promise<Video | undefined>
  /**
   * Videos neither indexed, skipped nor failed that have not changed since `before`, oldest
   * change first: the reaper's candidates.
   */
  listUnfinishedVideos(query: StaleQuery): Promise<Video[]>
  /**
   * Records one transcribed segment of the video's audio, once however often it is called
   * (a redelivered event); returns the video as it is after, undefined when it does not exist.
   */
  recordTranscribedSegment(videoId: string, segment: { index: number; seconds: number }): Promise<Video | undefined>
  /**
   * Moves a stage to `to` only while it is `from`, writing `update` in the same step: true for
   * the one caller that moved it, so of several replicas racing to finish the same work exactly
   * one goes on.
   */
  claimStage(videoId: string, stage: Stage, from: StageStatus, to: StageStatus, update?: VideoUpdate): Promise<boolean>
  /**
   * Puts a video back to the start of the pipeline (a forced re-ingest, a skipped live stream
   * tried again): every stage pending, transcript, audio, handoff, skip reason and redrives
   * cleared, generation one up. Returns the video after.
   */
  resetVideo(videoId: string): Promise<Video | undefined>
  deleteVideo(videoId: string): Promise<boolean>
}

/** Channel subscriptions and their scheduled syncs. Every write is idempotent: replaying it changes nothing. */
export interface ChannelStore {
  /**
   * Creates the subscription (options not given from `defaults`), or, when it exists, updates
   * the options given (url, listUrl, title, languages, speechToText, backfill, intervalSeconds)
   * and only those; its sync state is never reset.
   */
  upsertChannel(channel: NewChannel): Promise<{ created: boolean; channel: Channel }>
  getChannel(channelId: string): Promise<Channel | undefined>
  /** Every subscription, oldest first. */
  listChannels(): Promise<Channel[]>
  /** Ends the subscription; its videos stay. */
  deleteChannel(channelId: string): Promise<boolean>
  /**
   * The channels due (nextSyncAt ≤ now), oldest due first, at most `limit`; each one's
   * nextSyncAt is moved to `leaseUntil` in the same step, so a concurrent caller never gets it too.
   */
  claimDueChannels(now: Date, leaseUntil: Date, limit: number): Promise<Channel[]>
  /**
   * Gives a claim back: the channel is due again at `nextSyncAt`, but only while it still holds
   * the lease `leaseUntil` (a sync that ran meanwhile wins). True when it was given back.
   */
  releaseChannelClaim(channelId: string, leaseUntil: Date, nextSyncAt: Date): Promise<boolean>
  /**
   * Records a sync: `ok` resets consecutiveFailures, `failed` adds one, `rate-limited` leaves
   * it; sets lastSyncAt, lastOutcome, lastError (cleared when absent), videosFoundLastSync
   * (when given) and nextSyncAt. Returns the channel after, undefined when it does not exist.
   */
  recordChannelSync(channelId: string, result: ChannelSyncResult): Promise<Channel | undefined>
}

/**
 * The per-host politeness every replica shares: request spacing and backoff. Every write is
 * idempotent: replaying it changes nothing.
 */
export interface HostThrottleStore {
  /**
   * Reserves the next request to `host`: at least `spacingMs` after the previous reservation
   * and not before a backoff ends. A backed-off host gives `backoffUntil` and reserves nothing.
   */
  reserveHostRequest(host: string, options: { now: Date; spacingMs: number }): Promise<HostSlot>
  /** Backs the host off for every caller until `until` (it answered 429); a later backoff wins over an earlier one. */
  backOffHost(host: string, until: Date, reason: string): Promise<void>
  /**
   * The host's backoff if one runs at `now`, else undefined. Reads only: work that is not spaced
   * (a video's download) asks it before sending anything, without taking a slot.
   */
  hostBackoff(host: string, now: Date): Promise<HostBackoff | undefined>
}

/**
 * The documents store: jobs, videos, channels and host throttling in one database. A caller that
 * needs only part of it can take the narrower port (JobStore, VideoStore, ChannelStore,
 * HostThrottleStore); every adapter implements the whole.
 */
export interface DocumentStore extends JobStore, VideoStore, ChannelStore, HostThrottleStore {
  /** What is in progress now, for the metrics every replica reports alike (see WorkInProgress). */
  workInProgress(now: Date): Promise<WorkInProgress>
  /** Throws when the store cannot be used. */
  ping(): Promise<void>
  close(): Promise<void>
}
