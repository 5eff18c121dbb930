// The one owner of a video's lifecycle. Every function starts, finishes and fails its stage
// through here, so the pairing "write the state, then send what follows" is written once:
//
// - what a step sends on is recorded with the video in the same write that finishes the step
//   (the handoff), under deterministic event ids (video, step, generation, event);
// - a redelivery that finds the step already done sends that handoff again instead of returning
//   early: an emit refused (or a crash) after the write is repeated, and the same ids let the
//   broker and the consumers take it once;
// - a step that began before a reset (a forced re-ingest) writes nothing over the new run;
// - a step that finishes after its video was deleted removes what it wrote, so nothing is orphaned.
import type { EventData, EventName } from '@ytrag/events'
import {
  blobKeys,
  STAGES,
  type Handoff,
  type HandoffEvent,
  type Stage,
  type StageStatus,
  type Video,
  type VideoUpdate,
} from '@ytrag/stores'
import type { FunctionContext } from '../factory/index.ts'

/** Who sends a handoff: discovery, or one of the stages. */
export type HandoffSource = Handoff['from']

/** An event a step sends on; `key` tells apart several of one kind (audio segment 0, 1, …). */
export interface OutgoingEvent<N extends EventName = EventName> {
  name: N
  data: EventData<N>
  key?: string | number
}

/**
 * The CloudEvent id of an event a video's step sends: the same for every attempt of that step
 * in that generation, different after a reset.
 *
 * @example
 * handoffEventId('dQw4w9WgXcQ', 'download', 0, 'transcript.ready') // 'dQw4w9WgXcQ/download/0/transcript.ready'
 */
export const handoffEventId = (
  videoId: string,
  from: HandoffSource,
  generation: number,
  name: string,
  key?: string | number,
) => `${videoId}/${from}/${generation}/${name}${key === undefined ? '' : `/${key}`}`

/** What a video's stage writes when it finishes. */
export interface FinishStep {
  /** Fields to write with the stage's new state. */
  update?: Omit<VideoUpdate, 'stages' | 'handoff'>
  /** Later stages this one makes unnecessary (captions make speech-to-text `skipped`), or starts. */
  stages?: Partial<Record<Stage, StageStatus>>
  /** The events that carry the video on. */
  send: OutgoingEvent[]
}

/** The context a lifecycle needs: the stores, the emitter, the logger. */
export type LifecycleContext = Pick<FunctionContext, 'stores' | 'emit' | 'logger'>

/**
 * A video's lifecycle as one function sees it.
 *
 * @example
 * ```ts
 * const lifecycle = videoLifecycle(context)
 * const video = await lifecycle.workFor('download', event.data) // undefined: done (and sent again), stale or deleted
 * if (!video) return
 * await lifecycle.start(video, 'download')
 * await lifecycle.finish(video, 'download', { update, stages: { transcribe: 'skipped' }, send: [{ name: 'transcript.ready', data }] })
 * ```
 */
export function videoLifecycle({ stores, emit, logger }: LifecycleContext) {
  const handoffOf = (video: Video, from: HandoffSource, events: OutgoingEvent[]): Handoff => ({
    from,
    at: new Date().toISOString(),
    events: events.map(
      (event): HandoffEvent => ({
        name: event.name,
        id: handoffEventId(video.videoId, from, video.generation, event.name, event.key),
        // A plain JSON copy: what is stored is exactly what is sent again later.
        data: JSON.parse(JSON.stringify(event.data)) as Record<string, unknown>,
      }),
    ),
  })

  const send = async (videoId: string, handoff: Handoff) => {
    for (const event of handoff.events) {
      await emit(event.name as EventName, videoId, event.data as EventData<EventName>, { id: event.id })
    }
  }

  /**
   * The write found no video at that generation: deleted (remove what this step wrote, which
   * the delete could not see yet) or reset (the new run owns the video now; leave it alone).
   */
  const abandoned = async (video: Video, stage: HandoffSource) => {
    const now = await stores.documents.getVideo(video.videoId)
    if (now) {
      logger.info(
        { videoId: video.videoId, stage, generation: video.generation, now: now.generation },
        'the video was reset meanwhile; this run stops',
      )
      return
    }
    const chunks = await stores.chunks.deleteVideo(video.videoId)
    const blobs = await stores.blobs.deleteByPrefix(blobKeys.videoPrefix(video.videoId))
    logger.info(
      { videoId: video.videoId, stage, chunks, blobs },
      'the video was deleted meanwhile; what this step wrote is removed',
    )
  }

  /** Writes the failure and the `video.failed` it sends; undefined when the video is gone or was reset. */
  const recordFailure = async (
    video: Video,
    stage: Stage,
    reason: string,
    jobId: string,
  ): Promise<Handoff | undefined> => {
    const handoff = handoffOf(video, stage, [
      { name: 'video.failed', data: { jobId, videoId: video.videoId, stage, reason } },
    ])
    const after = await stores.documents.updateVideo(
      video.videoId,
      stage,
      'failed',
      { error: reason, handoff },
      { generation: video.generation },
    )
    if (!after) {
      await abandoned(video, stage)
      return undefined
    }
    logger.warn({ videoId: video.videoId, stage, reason }, 'video failed')
    return handoff
  }

  const lifecycle = {
    /**
     * The video an event asks `stage` to work on, or undefined when there is nothing to do: the
     * video was deleted, the event is of an earlier run, or the stage is done already (then what
     * it sent is sent again: this delivery may be the broker's retry after a refused send).
     */
    async workFor(
      stage: Stage,
      data: { videoId: string; generation?: number | undefined },
    ): Promise<Video | undefined> {
      const video = await stores.documents.getVideo(data.videoId)
      if (!video) {
        logger.warn({ videoId: data.videoId, stage }, 'the video no longer exists (deleted); nothing to do')
        return undefined
      }
      if (lifecycle.isStale(video, data)) {
        logger.info(
          { videoId: data.videoId, stage, generation: data.generation, current: video.generation },
          'event of an earlier run of the video; ignored',
        )
        return undefined
      }
      return (await lifecycle.alreadyDone(video, stage)) ? undefined : video
    },

    /**
     * Whether `stage` needs no work: done, skipped or failed in this generation, or the video failed
     * in another stage. When this stage sent
     * the video's latest handoff, it is sent again, with the same ids, before answering true.
     */
    async alreadyDone(video: Video, stage: Stage): Promise<boolean> {
      const status = video.stages[stage].status
      if (status !== 'done' && status !== 'failed' && status !== 'skipped') {
        // Another stage failed the video: nothing of this run goes on.
        return video.status === 'failed'
      }
      if (video.handoff?.from === stage) {
        logger.info(
          { videoId: video.videoId, stage, events: video.handoff.events.map((event) => event.id) },
          'step already done; what it sent is sent again',
        )
        await send(video.videoId, video.handoff)
      }
      return true
    },

    /** Marks the stage running; undefined when the video is gone or was reset (stop there). */
    async start(
      video: Video,
      stage: Stage,
      update: Omit<VideoUpdate, 'stages' | 'handoff'> = {},
    ): Promise<Video | undefined> {
      const after = await stores.documents.updateVideo(
        video.videoId,
        stage,
        'running',
        { error: null, ...update },
        { generation: video.generation },
      )
      if (!after) await abandoned(video, stage)
      return after
    },

    /** Writes fields while the stage runs (metadata read on the way); undefined as for start. */
    async progress(
      video: Video,
      stage: Stage,
      update: Omit<VideoUpdate, 'stages' | 'handoff'>,
    ): Promise<Video | undefined> {
      const after = await stores.documents.updateVideo(video.videoId, stage, 'running', update, {
        generation: video.generation,
      })
      if (!after) await abandoned(video, stage)
      return after
    },

    /**
     * Marks the stage done with its fields and records what it sends on, in one write; then sends
     * it. A send that fails throws (the broker redelivers, and `alreadyDone` sends it again).
     * False when the video was deleted or reset meanwhile (nothing is sent).
     */
    async finish(video: Video, stage: Stage, step: FinishStep): Promise<boolean> {
      const handoff = handoffOf(video, stage, step.send)
      const update: VideoUpdate = { ...step.update, handoff, ...(step.stages ? { stages: step.stages } : {}) }
      const after = await stores.documents.updateVideo(video.videoId, stage, 'done', update, {
        generation: video.generation,
      })
      if (!after) {
        await abandoned(video, stage)
        return false
      }
      await send(video.videoId, handoff)
      return true
    },

    /**
     * Like `finish`, for a stage that several deliveries race to finish (the last audio segment):
     * only the caller that moves it from `from` records and sends; true for that one.
     */
    async claimFinish(video: Video, stage: Stage, from: StageStatus, step: FinishStep): Promise<boolean> {
      const handoff = handoffOf(video, stage, step.send)
      const claimed = await stores.documents.claimStage(video.videoId, stage, from, 'done', { ...step.update, handoff })
      if (claimed) await send(video.videoId, handoff)
      return claimed
    },

    /**
     * Skips the video in this run for a reason that is not a failure (a live stream not over
     * yet): this stage and every later one `skipped` (the video's status is `skipped`), the
     * reason and `update` written in one step, nothing sent on (nothing downstream has work) and
     * nothing to send again. A redelivery finds the stage skipped and does nothing; a reset (a
     * re-ingest, a channel re-sync) tries the video again. False when the video was deleted or
     * reset meanwhile.
     */
    async skip(
      video: Video,
      stage: Stage,
      reason: string,
      update: Omit<VideoUpdate, 'stages' | 'handoff' | 'skipReason'> = {},
    ): Promise<boolean> {
      const later = Object.fromEntries(
        STAGES.slice(STAGES.indexOf(stage) + 1).map((next) => [next, 'skipped' as const]),
      )
      const after = await stores.documents.updateVideo(
        video.videoId,
        stage,
        'skipped',
        { ...update, skipReason: reason, handoff: null, stages: later },
        { generation: video.generation },
      )
      if (!after) {
        await abandoned(video, stage)
        return false
      }
      logger.info({ videoId: video.videoId, stage, reason }, 'video skipped')
      return true
    },

    /**
     * Fails the stage with the reason and sends `video.failed`, once: a redelivery finds the stage
     * failed and `alreadyDone` sends the same event again.
     */
    async fail(video: Video, stage: Stage, reason: string, jobId: string): Promise<void> {
      const handoff = await recordFailure(video, stage, reason, jobId)
      if (handoff) await send(video.videoId, handoff)
    },

    /**
     * Fails the stage with the reason without sending anything (the dead-letter sink has no broker
     * to send to, and nothing but a log line consumes `video.failed`).
     */
    async recordFailure(video: Video, stage: Stage, reason: string, jobId: string): Promise<void> {
      await recordFailure(video, stage, reason, jobId)
    },

    /** Discovery hands the video to the pipeline: recorded on the video (so the reaper can resend it), then sent. */
    async discovered(video: Video, data: EventData<'video.discovered'>): Promise<void> {
      const handoff = handoffOf(video, 'discover', [
        { name: 'video.discovered', data: { ...data, generation: video.generation } },
      ])
      const after = await stores.documents.patchVideo(video.videoId, video.generation, { handoff })
      if (!after) return abandoned(video, 'discover')
      await send(video.videoId, handoff)
    },

    /** Sends the video's recorded handoff again (the reaper); false when there is none. */
    async resend(video: Video): Promise<boolean> {
      if (!video.handoff) return false
      await send(video.videoId, video.handoff)
      return true
    },

    /** Whether an event belongs to an earlier (or unknown) run of the video than its current one. */
    isStale(video: Video, data: { generation?: number | undefined }): boolean {
      return data.generation !== undefined && data.generation !== video.generation
    },
  }
  return lifecycle
}

export type VideoLifecycle = ReturnType<typeof videoLifecycle>
