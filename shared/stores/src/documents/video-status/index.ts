// A video's overall status is never stored: it is derived from its stages on every read, as a
// job's is from its videos, so no two writes can leave the two disagreeing (a stage done but the
// video still "downloading") and no stage has to remember to set it.
import { STAGES } from '@ytrag/domain'
import type { Stage, StageState, StageStatus, VideoStatus } from '../../ports.ts'

/** The order a video goes through the stages (@ytrag/domain's); the first failed one is the one reported. */
export { STAGES }

/**
 * Refuses a stage name that is not one of STAGES: the adapters put it into a field path (a JSON
 * path in SQLite, a document path in MongoDB), so only a known name may get there.
 */
export function assertStage(stage: string): void {
  if (!(STAGES as readonly string[]).includes(stage)) throw new RangeError(`Unknown stage ${JSON.stringify(stage)}`)
}

/**
 * The status a video's stages add up to.
 *
 * @example
 * videoStatus({ download: done, transcribe: skipped, index: pending }) // 'indexing': the transcript is on its way to the indexer
 */
export function videoStatus(stages: Record<Stage, Pick<StageState, 'status'>>): VideoStatus {
  const of = (stage: Stage): StageStatus => stages[stage]?.status ?? 'pending'
  if (STAGES.some((stage) => of(stage) === 'failed')) return 'failed'
  if (of('index') === 'done') return 'indexed'
  // A stage that skips the index skips the video: nothing more happens to it in this run.
  if (of('index') === 'skipped') return 'skipped'
  if (of('index') === 'running') return 'indexing'
  if (of('transcribe') === 'running') return 'transcribing'
  if (of('download') === 'done') return of('transcribe') === 'pending' ? 'transcribing' : 'indexing'
  if (of('download') === 'running') return 'downloading'
  return 'queued'
}

/** Whether nothing more will happen to the video in this generation: indexed, skipped or failed. */
export const isFinished = (status: VideoStatus) => status === 'indexed' || status === 'skipped' || status === 'failed'

/** The stage the video waits on: the first one neither done nor skipped (undefined when indexed). */
export function currentStage(stages: Record<Stage, Pick<StageState, 'status'>>): Stage | undefined {
  return STAGES.find((stage) => !['done', 'skipped'].includes(stages[stage]?.status ?? 'pending'))
}
