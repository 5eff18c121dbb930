import { describe, expect, it } from 'vitest'
import { progressLine } from './index.ts'

describe('progressLine', () => {
  it('fills the bar by the share of videos done', () => {
    expect(progressLine({ status: 'running', videos: { total: 4, indexed: 1, failed: 1 } }, 20)).toBe(
      '[##########          ] 2/4 videos (1 indexed, 1 failed) running',
    )
  })
  it('says the videos are being listed before discovery', () => {
    expect(progressLine({ status: 'queued', videos: { total: 0, indexed: 0, failed: 0 } }, 4)).toBe(
      '[    ] listing videos… queued',
    )
  })
  it('is full when the job is done', () => {
    expect(progressLine({ status: 'succeeded', videos: { total: 3, indexed: 3, failed: 0 } }, 6)).toMatch(
      /^\[######\] 3\/3/,
    )
  })
  it('counts skipped videos as done and names them', () => {
    expect(progressLine({ status: 'succeeded', videos: { total: 2, indexed: 1, failed: 0, skipped: 1 } }, 4)).toBe(
      '[####] 2/2 videos (1 indexed, 0 failed, 1 skipped) succeeded',
    )
  })
})
