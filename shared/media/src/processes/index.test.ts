// The cap on child processes, with real ffmpeg runs that each take about half a second.
import { afterEach, describe, expect, it } from 'vitest'
import { runFfmpeg } from '../ffmpeg/index.ts'
import { DEFAULT_PROCESS_LIMIT, processSlots, setProcessLimit } from './index.ts'

afterEach(() => setProcessLimit(DEFAULT_PROCESS_LIMIT))

describe('the process cap', () => {
  it('runs at most the cap of ffmpeg processes at once; the rest wait and then run', async () => {
    setProcessLimit(2)
    // -re reads the silent input at its real rate, so each run lasts ~0.4 s.
    const run = () => runFfmpeg(['-re', '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '0.4', '-f', 'null', '-'])
    let most = 0
    let waited = 0
    const watch = setInterval(() => {
      const now = processSlots()
      most = Math.max(most, now.active)
      waited = Math.max(waited, now.pending)
    }, 20)
    try {
      await Promise.all([run(), run(), run(), run(), run()])
    } finally {
      clearInterval(watch)
    }
    expect(most).toBe(2)
    expect(waited).toBe(3)
    expect(processSlots()).toEqual({ active: 0, pending: 0, limit: 2 })
  })

  it('refuses a cap that is not a positive integer', () => {
    expect(() => setProcessLimit(0)).toThrow(RangeError)
    expect(() => setProcessLimit(1.5)).toThrow(RangeError)
  })
})
