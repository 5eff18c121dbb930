import { describe, expect, it } from 'vitest'
import { parseSilences } from './index.ts'

describe('parseSilences', () => {
  it('pairs starts with ends, and closes a silence still open at the end of the audio', () => {
    const log = [
      '[silencedetect @ 0x55] silence_start: -0.0120',
      '[silencedetect @ 0x55] silence_end: 1.2 | silence_duration: 1.212',
      'size=N/A time=00:00:05.00 bitrate=N/A',
      '[silencedetect @ 0x55] silence_start: 3.5',
      '[silencedetect @ 0x55] silence_end: 4.25 | silence_duration: 0.75',
      '[silencedetect @ 0x55] silence_start: 9.9',
    ].join('\n')
    expect(parseSilences(log, 10.5)).toEqual([
      { start: 0, end: 1.2 },
      { start: 3.5, end: 4.25 },
      { start: 9.9, end: 10.5 },
    ])
    expect(parseSilences(log)).toHaveLength(2)
    expect(parseSilences('')).toEqual([])
  })
})
