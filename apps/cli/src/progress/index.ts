export interface JobProgress {
  status: string
  /** `skipped` is absent from the jobs of a server older than skipped videos. */
  videos: { total: number; indexed: number; failed: number; skipped?: number }
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
  const { total, indexed, failed, skipped = 0 } = job.videos
  const done = indexed + failed + skipped
  const filled = total === 0 ? (job.status === 'queued' ? 0 : width) : Math.round((done / total) * width)
  const bar = `[${'#'.repeat(filled)}${' '.repeat(width - filled)}]`
  // Skipped videos (live streams) are named only when there are some: the usual line stays short.
  const breakdown = `${indexed} indexed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`
  const counts = total === 0 && job.status === 'queued' ? 'listing videos…' : `${done}/${total} videos (${breakdown})`
  return `${bar} ${counts} ${job.status}`
}
