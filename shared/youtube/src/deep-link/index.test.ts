import { describe, expect, it } from 'vitest'
import { deepLink, isYouTubeUrl, youtubeVideoId } from './index.ts'

const ID = 'dQw4w9WgXcQ'

describe('isYouTubeUrl', () => {
  it.each([
    `https://www.youtube.com/watch?v=${ID}`,
    'https://youtube.com/@channel',
    'http://m.youtube.com/watch?v=x',
    'https://music.youtube.com/watch?v=x',
    `https://youtu.be/${ID}`,
    `https://www.youtube-nocookie.com/embed/${ID}`,
    'https://WWW.YOUTUBE.COM/',
  ])('%s is YouTube', (url) => {
    expect(isYouTubeUrl(url)).toBe(true)
  })

  it.each([
    'http://127.0.0.1:4000/talk.html',
    'https://notyoutube.com/watch?v=x',
    'https://youtube.com.evil.example/watch?v=x',
    'https://evil.example/?u=https://www.youtube.com/',
    'ftp://youtube.com/x',
    'youtube.com/watch?v=x',
    '',
  ])('%s is not YouTube', (url) => {
    expect(isYouTubeUrl(url)).toBe(false)
  })
})

describe('youtubeVideoId', () => {
  it.each([
    `https://www.youtube.com/watch?v=${ID}`,
    `https://www.youtube.com/watch?v=${ID}&list=PL123&t=42s`,
    `https://www.youtube.com/watch?feature=share&v=${ID}`,
    `https://m.youtube.com/watch?v=${ID}`,
    `https://music.youtube.com/watch?v=${ID}`,
    `https://youtu.be/${ID}`,
    `https://youtu.be/${ID}?t=10`,
    `https://www.youtube.com/shorts/${ID}`,
    `https://www.youtube.com/embed/${ID}?start=5`,
    `https://www.youtube-nocookie.com/embed/${ID}`,
    `https://www.youtube.com/live/${ID}?feature=share`,
    `https://www.youtube.com/v/${ID}`,
  ])('reads the id from %s', (url) => {
    expect(youtubeVideoId(url)).toBe(ID)
  })

  it.each([
    'https://www.youtube.com/@channel',
    'https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv',
    'https://www.youtube.com/playlist?list=PL123',
    'https://www.youtube.com/watch?v=tooshort',
    'https://www.youtube.com/watch?v=has%20space!!',
    'https://www.youtube.com/watch',
    `https://vimeo.com/watch?v=${ID}`,
    `http://127.0.0.1:4000/shorts/${ID}`,
    'not a url',
  ])('finds no video id in %s', (url) => {
    expect(youtubeVideoId(url)).toBeUndefined()
  })
})

describe('deepLink', () => {
  it('links YouTube videos to the moment, flooring the seconds', () => {
    expect(deepLink({ videoId: ID, pageUrl: `https://www.youtube.com/watch?v=${ID}`, seconds: 754.9 })).toBe(
      `https://www.youtube.com/watch?v=${ID}&t=754s`,
    )
    expect(deepLink({ videoId: ID, pageUrl: `https://youtu.be/${ID}`, seconds: 3 })).toBe(`https://www.youtube.com/watch?v=${ID}&t=3s`)
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
    expect(deepLink({ videoId: 'talk-1', pageUrl: 'http://127.0.0.1:4000/talk.html', seconds: 151.7 })).toBe('http://127.0.0.1:4000/talk.html#t=151')
    expect(deepLink({ videoId: 'talk-1', pageUrl: 'http://127.0.0.1:4000/talk.html?a=1#top', seconds: 9 })).toBe(
      'http://127.0.0.1:4000/talk.html?a=1#t=9',
    )
  })

  it('treats negative or non-finite seconds as the start', () => {
    expect(deepLink({ videoId: ID, pageUrl: `https://youtu.be/${ID}`, seconds: -5 })).toBe(`https://www.youtube.com/watch?v=${ID}&t=0s`)
    expect(deepLink({ videoId: 'x', pageUrl: 'http://h/p', seconds: Number.NaN })).toBe('http://h/p#t=0')
  })
})
