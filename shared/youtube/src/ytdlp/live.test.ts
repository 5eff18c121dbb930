import { describe, expect, it } from 'vitest'
import { ExtractionError, VideoUnavailableError } from './errors.ts'
import { isNotStartedError, liveSkipReason, liveStatusOf } from './live.ts'

describe('liveStatusOf', () => {
  it.each(['is_live', 'is_upcoming', 'post_live', 'was_live', 'not_live'] as const)(
    'reads live_status %s',
    (status) => {
      expect(liveStatusOf({ live_status: status, is_live: false })).toBe(status)
    },
  )

  it('falls back on the is_live and was_live flags, and says nothing without them', () => {
    expect(liveStatusOf({ is_live: true })).toBe('is_live')
    expect(liveStatusOf({ is_live: false, was_live: true })).toBe('was_live')
    expect(liveStatusOf({ live_status: 'something_new', is_live: false, was_live: false })).toBeUndefined()
    expect(liveStatusOf({})).toBeUndefined()
  })
})

describe('liveSkipReason', () => {
  it('skips a stream on air, one not started and one still being processed', () => {
    expect(liveSkipReason('is_live')).toMatch(/^a live stream still on air; it is read again once it has ended$/)
    expect(liveSkipReason('is_upcoming')).toMatch(/has not started yet/)
    expect(liveSkipReason('post_live')).toMatch(/still being processed/)
  })

  it('reads an ended stream and an ordinary video', () => {
    expect(liveSkipReason('was_live')).toBeUndefined()
    expect(liveSkipReason('not_live')).toBeUndefined()
    expect(liveSkipReason(undefined)).toBeUndefined()
  })
})

describe('isNotStartedError', () => {
  const failure = (detail: string) => new ExtractionError(`yt-dlp could not read u: ${detail}`, { url: 'u', detail })

  it.each([
    '[youtube] a-_9Zk3-Q_w: This live event will begin in 3 hours.',
    '[youtube] a-_9Zk3-Q_w: This live event will begin in a few moments.',
    '[youtube] a-_9Zk3-Q_w: Premieres in 2 days',
    '[youtube] a-_9Zk3-Q_w: Premiere will begin shortly',
  ])('knows %s', (detail) => {
    expect(isNotStartedError(failure(detail))).toBe(true)
  })

  it('is not fooled by other failures', () => {
    expect(isNotStartedError(failure('[youtube] a-_9Zk3-Q_w: Video unavailable'))).toBe(false)
    expect(isNotStartedError(new VideoUnavailableError('Private video', { url: 'u', detail: 'Private video' }))).toBe(
      false,
    )
    expect(isNotStartedError(new Error('This live event will begin in 3 hours.'))).toBe(false)
  })
})
