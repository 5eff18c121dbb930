// The pipeline's work in progress as MongoDB counts it: across jobs, videos and hosts, so of no
// one port. Counted per stage and status rather than with $group, and joined in code rather
// than with $lookup (see dialect.ts).
import { isoTimestamp } from '../channel-sync/index.ts'
import { STAGES } from '../video-status/index.ts'
import type { StageStatus, WorkInProgress } from '../../ports.ts'
import type { MongoConnection } from './connection.ts'
import { unfinishedVideos } from './videos.ts'

const STATUSES: StageStatus[] = ['pending', 'running', 'done', 'failed', 'skipped']

/**
 * What is in progress at `now` (see WorkInProgress).
 *
 * @example
 * const { activeJobs } = await countWorkInProgress(mongo, new Date())
 */
export async function countWorkInProgress(mongo: MongoConnection, now: Date): Promise<WorkInProgress> {
  await mongo.use()
  const pairs = STAGES.flatMap((stage) => STATUSES.map((status) => ({ stage, status })))
  const counts = await Promise.all(
    pairs.map(({ stage, status }) => mongo.videos.countDocuments({ [`stages.${stage}.status`]: status })),
  )
  const videos = pairs.map((pair, index) => ({ ...pair, count: counts[index]! })).filter((entry) => entry.count > 0)
  const unfinished = await mongo.videos.find(unfinishedVideos(), { projection: { _id: 0, videoId: 1 } }).toArray()
  const busyJobIds = unfinished.length
    ? (
        await mongo.jobVideos
          .find({ videoId: { $in: unfinished.map((video) => video.videoId) } }, { projection: { _id: 0, jobId: 1 } })
          .toArray()
      ).map((link) => link.jobId)
    : []
  const active = await mongo.jobs
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
    const links = await mongo.jobVideos
      .find({ jobId: { $in: [...changed.keys()] } }, { projection: { _id: 0, jobId: 1, videoId: 1 } })
      .toArray()
    const linked = links.length
      ? await mongo.videos
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
  const hostsBackedOff = await mongo.hosts.countDocuments({ backoffUntil: { $gt: isoTimestamp(now, 'now') } })
  return {
    activeJobs: active.length,
    oldestActiveIdleSeconds: active.length === 0 ? 0 : Math.max(0, (now.getTime() - oldest) / 1000),
    videos,
    hostsBackedOff,
  }
}
