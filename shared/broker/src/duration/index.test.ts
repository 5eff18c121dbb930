import { describe, expect, it } from 'vitest'
import { parseIsoDuration } from './index.ts'

describe('parseIsoDuration', () => {
  it.each([
    ['PT0.5S', 500],
    ['PT2S', 2000],
    ['PT1M', 60_000],
    ['PT1M30S', 90_000],
    ['PT0,25S', 250],
    ['PT1H', 3_600_000],
    ['P1DT12H', 129_600_000],
    ['P1W', 604_800_000],
    ['PT0S', 0],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseIsoDuration(text)).toBe(ms)
  })

  it.each(['', 'P', 'PT', '0.5S', 'PT-1S', 'PT1.S', 'pt1s', 'PT1S2M', '500ms'])('rejects %j', (text) => {
    expect(() => parseIsoDuration(text)).toThrow(/invalid ISO 8601 duration/)
  })

  it('explains that calendar units are unsupported', () => {
    expect(() => parseIsoDuration('P1M')).toThrow(/years and months are not supported/)
    expect(() => parseIsoDuration('P1Y')).toThrow(/years and months are not supported/)
  })
})
