// The cap on child processes, with real child processes that each live about 0.4 s (runFfmpeg and
// runYtDlp take their slot the same way).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_PROCESS_LIMIT, processSlots, setProcessLimit, withProcessSlot } from './index.ts'

afterEach(() => setProcessLimit(DEFAULT_PROCESS_LIMIT))

describe('the process cap', () => {
  it('runs at most the cap of child processes at once; the rest wait and then run', async () => {
    setProcessLimit(2)
    const run = () => withProcessSlot(() => promisify(execFile)(process.execPath, ['-e', 'setTimeout(() => {}, 400)']))
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
