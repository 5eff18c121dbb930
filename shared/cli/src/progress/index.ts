export interface JobProgress {
  status: string
  videos: { total: number; indexed: number; failed: number }
}

/**
 * One line that shows a job's progress: a bar on a terminal, plain text elsewhere.
 *
 * @example
 * ```ts
 * progressLine({ status: 'running', videos: { total: 4, indexed: 1, failed: 1 } }, 20)
 * // '[##########          ] 2/4 videos (1 indexed, 1 failed) running'
 * ```
 */
export function progressLine(job: JobProgress, width = 24): string {
  const { total, indexed, failed } = job.videos
  const done = indexed + failed
  const filled = total === 0 ? (job.status === 'queued' ? 0 : width) : Math.round((done / total) * width)
  const bar = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}]`
  const counts = total === 0 && job.status === 'queued' ? 'listing videos…' : `${done}/${total} videos (${indexed} indexed, ${failed} failed)`
  return `${bar} ${counts} ${job.status}`
}
