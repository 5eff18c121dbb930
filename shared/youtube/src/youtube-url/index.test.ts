import { describe, expect, it } from 'vitest'
import { canonicalUrl, isYouTubeUrl, youtubeTarget, youtubeVideoId } from './index.ts'

// Ids of the shapes YouTube hands out: 11 characters, `-` and `_` included, anywhere.
const ID = 'dQw4w9WgXcQ'
const DASHED = 'a-_9Zk3-Q_w'
const LEADING = '-XrU4F_mbcA'
const LIST = 'PLrAXtmErZgOeiKm4sgNOknGvNjby9efdf'
const WATCH = (id: string) => `https://www.youtube.com/watch?v=${id}`

const canonical = (input: string, playlist?: boolean) => {
  const result = canonicalUrl(new URL(input), playlist === undefined ? {} : { playlist })
  return result.ok ? result.url.href : `refused: ${result.message}`
}

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
    'https://youtu.be.evil.example/dQw4w9WgXcQ',
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
    [`https://www.youtube.com/watch?v=${ID}`, ID],
    [`https://www.youtube.com/watch?v=${ID}&list=PL123&t=42s`, ID],
    [`https://www.youtube.com/watch?feature=share&v=${ID}`, ID],
    [`https://m.youtube.com/watch?v=${DASHED}`, DASHED],
    [`https://music.youtube.com/watch?v=${ID}&si=Qx1-Zp9`, ID],
    [`https://youtu.be/${LEADING}`, LEADING],
    [`https://youtu.be/${ID}?t=10`, ID],
    [`https://www.youtube.com/shorts/${DASHED}`, DASHED],
    [`https://www.youtube.com/embed/${ID}?start=5`, ID],
    [`https://www.youtube-nocookie.com/embed/${ID}`, ID],
    [`https://www.youtube.com/live/${LEADING}?feature=share`, LEADING],
    [`https://www.youtube.com/v/${ID}`, ID],
    [`https://www.youtube.com/watch/${ID}`, ID],
  ])('reads the id from %s', (url, id) => {
    expect(youtubeVideoId(url)).toBe(id)
  })

  it.each([
    'https://www.youtube.com/@channel',
    'https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv',
    'https://www.youtube.com/playlist?list=PL123',
    'https://www.youtube.com/watch?v=tooshort',
    `https://www.youtube.com/watch?v=${ID}x`,
    'https://www.youtube.com/watch?v=has%20space!!',
    'https://www.youtube.com/watch',
    `https://vimeo.com/watch?v=${ID}`,
    `http://127.0.0.1:4000/shorts/${ID}`,
    'not a url',
  ])('finds no video id in %s', (url) => {
    expect(youtubeVideoId(url)).toBeUndefined()
  })
})

describe('youtubeTarget', () => {
  it('tells videos, videos in a playlist, playlists and pages apart', () => {
    expect(youtubeTarget(`https://www.youtube.com/watch?v=${ID}`)).toEqual({ kind: 'video', videoId: ID })
    expect(youtubeTarget(`https://www.youtube.com/watch?v=${ID}&list=${LIST}&index=3`)).toEqual({
      kind: 'video',
      videoId: ID,
      playlistId: LIST,
    })
    expect(youtubeTarget(`https://www.youtube.com/playlist?list=${LIST}`)).toEqual({
      kind: 'playlist',
      playlistId: LIST,
    })
    expect(youtubeTarget(`https://www.youtube.com/watch?list=${LIST}`)).toEqual({ kind: 'playlist', playlistId: LIST })
    expect(youtubeTarget(`https://www.youtube.com/embed/videoseries?list=${LIST}`)).toEqual({
      kind: 'playlist',
      playlistId: LIST,
    })
    expect(youtubeTarget('https://www.youtube.com/@some-channel/videos')).toEqual({ kind: 'page' })
    expect(youtubeTarget('https://example.com/watch?v=x')).toBeUndefined()
  })

  it.each([
    ['https://youtu.be/', /the youtu\.be path holds nothing/],
    ['https://youtu.be/dQw4w9WgXc', /"dQw4w9WgXc", not a YouTube video id/],
    [`https://www.youtube.com/shorts/${ID}0`, /the \/shorts\/ path holds "dQw4w9WgXcQ0"/],
    ['https://www.youtube.com/embed/', /the \/embed\/ path holds nothing/],
    ['https://www.youtube.com/watch?v=dQw4w9WgXc$', /the v= parameter holds "dQw4w9WgXc\$"/],
    ['https://www.youtube.com/playlist', /the list= parameter holds nothing/],
    ['https://www.youtube.com/playlist?list=P', /the list= parameter holds "P"/],
  ])('finds %s malformed', (url, reason) => {
    const target = youtubeTarget(url)
    expect(target?.kind).toBe('invalid')
    expect(target?.kind === 'invalid' ? target.reason : '').toMatch(reason)
  })
})

describe('canonicalUrl', () => {
  it.each([
    `https://www.youtube.com/watch?v=${ID}`,
    `http://youtube.com/watch?v=${ID}`,
    `https://m.youtube.com/watch?v=${ID}&feature=youtu.be`,
    `https://music.youtube.com/watch?v=${ID}&si=AbCdEf-12_3`,
    `https://youtu.be/${ID}`,
    `https://youtu.be/${ID}?si=AbCdEf-12_3`,
    `https://youtu.be/${ID}?t=42`,
    `https://www.youtube.com/watch?v=${ID}&t=1m30s`,
    `https://www.youtube.com/watch?v=${ID}&pp=ygUEdGVzdA%3D%3D&ab_channel=Someone`,
    `https://www.youtube.com/shorts/${ID}?feature=share`,
    `https://youtube.com/shorts/${ID}?si=xyz`,
    `https://www.youtube.com/live/${ID}?si=xyz`,
    `https://www.youtube.com/embed/${ID}?start=30&autoplay=1`,
    `https://www.youtube-nocookie.com/embed/${ID}`,
    `https://www.youtube.com/v/${ID}?version=3`,
    `https://WWW.YouTube.com./watch?v=${ID}#comments`,
  ])('reads %s as the one watch URL', (input) => {
    expect(canonical(input)).toBe(WATCH(ID))
  })

  it('keeps ids with - and _ exactly as given', () => {
    expect(canonical(`https://youtu.be/${DASHED}`)).toBe(WATCH(DASHED))
    expect(canonical(`https://www.youtube.com/shorts/${LEADING}`)).toBe(WATCH(LEADING))
  })

  it('gives the video id it read', () => {
    expect(canonicalUrl(new URL(`https://youtu.be/${DASHED}?si=x`))).toMatchObject({ ok: true, videoId: DASHED })
  })

  it('takes a video opened in a playlist alone, unless the playlist is asked for', () => {
    const inList = `https://www.youtube.com/watch?v=${ID}&list=${LIST}&index=4&si=x`
    expect(canonical(inList)).toBe(WATCH(ID))
    expect(canonical(inList, false)).toBe(WATCH(ID))
    expect(canonical(inList, true)).toBe(`https://www.youtube.com/playlist?list=${LIST}`)
    expect(canonicalUrl(new URL(inList), { playlist: true })).toMatchObject({ ok: true, playlistId: LIST })
    expect(canonical(`https://youtu.be/${ID}?list=${LIST}`, true)).toBe(`https://www.youtube.com/playlist?list=${LIST}`)
    // Asked for with no playlist in the URL: the video.
    expect(canonical(`https://youtu.be/${ID}`, true)).toBe(WATCH(ID))
  })

  it('reads every playlist form as the one playlist URL', () => {
    const want = `https://www.youtube.com/playlist?list=${LIST}`
    expect(canonical(`https://www.youtube.com/playlist?list=${LIST}&si=x`)).toBe(want)
    expect(canonical(`https://m.youtube.com/playlist?list=${LIST}`)).toBe(want)
    expect(canonical(`https://music.youtube.com/playlist?list=${LIST}`)).toBe(want)
    expect(canonical(`https://www.youtube.com/watch?list=${LIST}`)).toBe(want)
    expect(canonical(`https://www.youtube.com/embed/videoseries?list=${LIST}`)).toBe(want)
  })

  it('keeps other YouTube pages, on www. over https, without share and tracking parameters', () => {
    expect(canonical('https://youtube.com/@some-channel?si=abc')).toBe('https://www.youtube.com/@some-channel')
    expect(canonical('http://m.youtube.com/@some-channel/videos?feature=shared&utm_source=x')).toBe(
      'https://www.youtube.com/@some-channel/videos',
    )
    expect(canonical('https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv/streams?view=0')).toBe(
      'https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv/streams?view=0',
    )
    expect(canonical('https://music.youtube.com/channel/UCabcdefghijklmnopqrstuv')).toBe(
      'https://music.youtube.com/channel/UCabcdefghijklmnopqrstuv',
    )
  })

  it.each([
    'https://www.youtube.com/watch?v=tooshort',
    `https://www.youtube.com/watch?v=${ID}1`,
    'https://youtu.be/',
    'https://youtu.be/dQw4w9WgX',
    `https://www.youtube.com/shorts/${ID}-`,
    'https://www.youtube.com/embed/',
    'https://www.youtube.com/playlist?list=%24%24',
  ])('refuses the look-alike %s', (input) => {
    expect(canonical(input)).toMatch(/^refused: .* is not a YouTube URL that can be read: /)
  })

  it('takes URLs of other sites as they are', () => {
    for (const input of [
      `https://youtube.com.evil.example/watch?v=${ID}&si=x`,
      'http://127.0.0.1:4000/talk.html?si=1#t=3',
      `https://notyoutube.com/shorts/${ID}`,
    ]) {
      expect(canonical(input)).toBe(new URL(input).href)
    }
  })
})
