import { describe, expect, it } from 'vitest'
import { planSegments } from './index.ts'

describe('planSegments', () => {
  it('keeps audio shorter than a segment whole', () => {
    expect(planSegments(42, [], { maxSeconds: 60 })).toEqual([{ index: 0, start: 0, end: 42 }])
  })

  it('cuts in the middle of the latest silence before each limit, leaving no gap and no overlap', () => {
    const silences = [
      { start: 50, end: 51 },
      { start: 56, end: 58 },
      { start: 110, end: 111 },
    ]
    expect(planSegments(150, silences, { maxSeconds: 60, searchSeconds: 10 })).toEqual([
      { index: 0, start: 0, end: 57 },
      { index: 1, start: 57, end: 110.5 },
      { index: 2, start: 110.5, end: 150 },
    ])
  })

  it('cuts at the limit where no silence is near, and overlaps the next segment so no word is lost', () => {
    const plan = planSegments(130, [{ start: 10, end: 11 }], { maxSeconds: 60, searchSeconds: 5, overlapSeconds: 2 })
    expect(plan).toEqual([
      { index: 0, start: 0, end: 60 },
      { index: 1, start: 58, end: 118 },
      { index: 2, start: 116, end: 130 },
    ])
  })

  it('never makes a segment longer than the limit, whatever the silences', () => {
    const silences = Array.from({ length: 200 }, (_, i) => ({ start: i * 7.3, end: i * 7.3 + 0.4 }))
    const plan = planSegments(1400, silences, { maxSeconds: 120 })
    for (const segment of plan) expect(segment.end - segment.start).toBeLessThanOrEqual(120)
    expect(plan.at(-1)?.end).toBe(1400)
    for (let i = 1; i < plan.length; i++) expect(plan[i]!.start).toBeLessThanOrEqual(plan[i - 1]!.end)
  })

  it('refuses a limit that is not positive', () => {
    expect(() => planSegments(10, [], { maxSeconds: 0 })).toThrow(RangeError)
  })
})
