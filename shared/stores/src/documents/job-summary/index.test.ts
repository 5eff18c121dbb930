import { describe, expect, it } from 'vitest'
import type { Stage, StageState, VideoStatus } from '../../ports.ts'
import { type LinkedVideoFacts, summarizeJob } from './index.ts'

const t0 = '2024-01-01T00:00:00.000Z'
const pending: StageState = { status: 'pending', updatedAt: t0 }
const stages = (overrides: Partial<Record<Stage, StageState>> = {}): Record<Stage, StageState> => ({
  download: pending,
  transcribe: pending,
  index: pending,
  ...overrides,
})
const video = (videoId: string, status: VideoStatus, extra: Partial<LinkedVideoFacts> = {}): LinkedVideoFacts => ({
  videoId,
  status,
  stages: stages(),
  updatedAt: t0,
  ...extra,
})

describe('summarizeJob', () => {
  const job = { discovered: true, updatedAt: t0 }

  it.each([
    ['queued', { discovered: false, updatedAt: t0 }, []],
    ['succeeded', job, []],
    ['running', { discovered: false, updatedAt: t0 }, [video('a', 'indexed')]],
    ['running', job, [video('a', 'indexed'), video('b', 'transcribing')]],
    ['running', job, [video('a', 'indexed'), undefined]],
    ['succeeded', job, [video('a', 'indexed'), video('b', 'indexed')]],
    ['failed', job, [video('a', 'failed'), video('b', 'failed')]],
    ['partial', job, [video('a', 'indexed'), video('b', 'failed')]],
    ['running', job, [video('a', 'skipped'), video('b', 'downloading')]],
    ['succeeded', job, [video('a', 'indexed'), video('b', 'skipped')]],
    ['succeeded', job, [video('a', 'skipped')]],
    ['partial', job, [video('a', 'skipped'), video('b', 'failed')]],
    ['failed', { ...job, error: 'discovery failed' }, [video('a', 'indexed')]],
  ] as const)('is %s', (status, facts, videos) => {
    expect(summarizeJob(facts, videos).status).toBe(status)
  })

  it('counts, lists errors with the failed stage, and takes the latest updatedAt', () => {
    const later = '2024-01-02T00:00:00.000Z'
    const summary = summarizeJob({ ...job, error: 'playlist is private' }, [
      video('a', 'indexed'),
      video('b', 'failed', {
        error: 'no captions',
        stages: stages({
          download: { status: 'done', updatedAt: t0 },
          transcribe: { status: 'failed', updatedAt: later },
        }),
        updatedAt: later,
      }),
      video('c', 'failed', { stages: stages({ download: { status: 'failed', updatedAt: t0, error: 'HTTP 403' } }) }),
      video('d', 'failed'),
    ])
    expect(summary.videos).toEqual({ total: 4, indexed: 1, failed: 3, skipped: 0 })
    expect(summary.errors).toEqual([
      { message: 'playlist is private' },
      { videoId: 'b', stage: 'transcribe', message: 'no captions' },
      { videoId: 'c', stage: 'download', message: 'HTTP 403' },
      { videoId: 'd', message: 'failed' },
    ])
    expect(summary.updatedAt).toBe(later)
  })

  it('lists skipped videos with their reasons, apart from the errors', () => {
    const summary = summarizeJob(job, [
      video('a', 'indexed'),
      video('live', 'skipped', { skipReason: 'a live stream, still live; it is read again once it has ended' }),
      video('older', 'skipped'),
    ])
    expect(summary.videos).toEqual({ total: 3, indexed: 1, failed: 0, skipped: 2 })
    expect(summary.skipped).toEqual([
      { videoId: 'live', reason: 'a live stream, still live; it is read again once it has ended' },
      { videoId: 'older', reason: 'skipped' },
    ])
    expect(summary.errors).toEqual([])
    expect(summary.status).toBe('succeeded')
  })
})
