import { describe, expect, it } from 'vitest'
import { deepLink } from './index.ts'

const ID = 'dQw4w9WgXcQ'

describe('deepLink', () => {
  it('links YouTube videos to the moment, flooring the seconds', () => {
    expect(deepLink({ videoId: ID, pageUrl: `https://www.youtube.com/watch?v=${ID}`, seconds: 754.9 })).toBe(
      `https://www.youtube.com/watch?v=${ID}&t=754s`,
    )
    expect(deepLink({ videoId: ID, pageUrl: `https://youtu.be/${ID}`, seconds: 3 })).toBe(
      `https://www.youtube.com/watch?v=${ID}&t=3s`,
    )
    expect(deepLink({ videoId: ID, pageUrl: `https://www.youtube.com/shorts/${ID}`, seconds: 0.4 })).toBe(
      `https://www.youtube.com/watch?v=${ID}&t=0s`,
    )
  })

  it('builds the canonical watch URL from the id, not from the page URL', () => {
    expect(deepLink({ videoId: ID, pageUrl: 'https://www.youtube.com/playlist?list=PL1', seconds: 61 })).toBe(
      `https://www.youtube.com/watch?v=${ID}&t=61s`,
    )
  })

  it('links pages on other hosts with a #t= fragment, replacing any fragment', () => {
    expect(deepLink({ videoId: 'talk-1', pageUrl: 'http://127.0.0.1:4000/talk.html', seconds: 151.7 })).toBe(
      'http://127.0.0.1:4000/talk.html#t=151',
    )
    expect(deepLink({ videoId: 'talk-1', pageUrl: 'http://127.0.0.1:4000/talk.html?a=1#top', seconds: 9 })).toBe(
      'http://127.0.0.1:4000/talk.html?a=1#t=9',
    )
  })

  it('treats negative or non-finite seconds as the start', () => {
    expect(deepLink({ videoId: ID, pageUrl: `https://youtu.be/${ID}`, seconds: -5 })).toBe(
      `https://www.youtube.com/watch?v=${ID}&t=0s`,
    )
    expect(deepLink({ videoId: 'x', pageUrl: 'http://h/p', seconds: Number.NaN })).toBe('http://h/p#t=0')
  })
})
