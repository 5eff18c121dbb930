const NUMBER = String.raw`(\d+(?:[.,]\d+)?)`
// PnW, PnD and the time part TnHnMnS, each optional, fractions allowed (ISO 8601 permits
// a comma as the decimal sign). Years and months are left out on purpose: their length
// depends on the calendar, and nobody writes a retry backoff in months.
const DURATION = new RegExp(`^P(?:${NUMBER}W)?(?:${NUMBER}D)?(?:T(?:${NUMBER}H)?(?:${NUMBER}M)?(?:${NUMBER}S)?)?$`)

const MS_PER = { week: 604_800_000, day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1000 }

/**
 * Milliseconds in an ISO 8601 duration, the format Knative uses for `backoffDelay`
 * and `timeout` (`PT0.5S`, `PT2S`, `PT1M`, `P1DT12H`).
 *
 * @throws Error naming the value when it is not a duration this understands.
 * @example
 * ```ts
 * parseIsoDuration('PT0.5S') // 500
 * parseIsoDuration('PT1M30S') // 90_000
 * ```
 */
export function parseIsoDuration(text: string): number {
  const match = DURATION.exec(text)
  // "P" and "PT" match the pattern with every part absent, but are not durations.
  if (!match || text === 'P' || text.endsWith('T')) {
    const hint = /^P[^T]*[YM]/.test(text) ? ' (years and months are not supported)' : ''
    throw new Error(`invalid ISO 8601 duration "${text}"${hint}; expected something like PT0.5S, PT2S or PT1M`)
  }
  const [, weeks, days, hours, minutes, seconds] = match
  const part = (value: string | undefined, unit: number) => (value ? Number(value.replace(',', '.')) * unit : 0)
  return Math.round(
    part(weeks, MS_PER.week) +
      part(days, MS_PER.day) +
      part(hours, MS_PER.hour) +
      part(minutes, MS_PER.minute) +
      part(seconds, MS_PER.second),
  )
}
