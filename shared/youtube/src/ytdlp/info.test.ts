import { describe, expect, it } from 'vitest'
import { chaptersOf, playableMediaUrl, toVideoInfo } from './info.ts'

describe('chaptersOf', () => {
  it("reads yt-dlp's chapters in order of their start", () => {
    const chapters = [
      { start_time: 95.5, end_time: 300, title: 'Covering indexes' },
      { start_time: 0, end_time: 95.5, title: 'Intro' },
    ]
    expect(chaptersOf({ chapters })).toEqual([
      { title: 'Intro', start: 0, end: 95.5 },
      { title: 'Covering indexes', start: 95.5, end: 300 },
    ])
  })

  it("ends a chapter without an end at the next one's start, the last at the video's end", () => {
    expect(
      chaptersOf({
        duration: 120,
        chapters: [
          { start_time: 0, title: 'A' },
          { start_time: 50, end_time: 40, title: 'B' },
        ],
      }),
    ).toEqual([
      { title: 'A', start: 0, end: 50 },
      { title: 'B', start: 50, end: 120 },
    ])
  })

  it('drops entries without a usable start, names untitled ones, tidies and shortens titles', () => {
    const chapters = [
      null,
      { start_time: -1, title: 'x' },
      { start_time: 'soon', title: 'y' },
      { start_time: 10, end_time: 20 },
      { start_time: 20, end_time: 30, title: `  Two\n  words ${'z'.repeat(300)}` },
    ]
    const read = chaptersOf({ chapters })
    expect(read?.map((chapter) => chapter.title.slice(0, 10))).toEqual(['Chapter 4', 'Two words '])
    expect(read?.[1]?.title).toHaveLength(200)
  })

  it('gives nothing when there are no chapters', () => {
    expect(chaptersOf({})).toBeUndefined()
    expect(chaptersOf({ chapters: null })).toBeUndefined()
    expect(chaptersOf({ chapters: [] })).toBeUndefined()
    expect(chaptersOf({ chapters: [{ title: 'no start' }] })).toBeUndefined()
  })

  it('keeps at most 500', () => {
    const chapters = Array.from({ length: 600 }, (_, i) => ({ start_time: i, end_time: i + 1, title: `c${i}` }))
    expect(chaptersOf({ chapters })).toHaveLength(500)
  })
})

describe('toVideoInfo', () => {
  it('carries the live status and the chapters', () => {
    const info = toVideoInfo(
      {
        id: 'a-_9Zk3-Q_w',
        live_status: 'was_live',
        duration: 60,
        chapters: [{ start_time: 0, end_time: 60, title: 'All' }],
      },
      'https://www.youtube.com/watch?v=a-_9Zk3-Q_w',
    )
    expect(info).toMatchObject({ liveStatus: 'was_live', chapters: [{ title: 'All', start: 0, end: 60 }] })
    expect(toVideoInfo({ id: 'x' }, 'u')).not.toHaveProperty('chapters')
  })
})

describe('playableMediaUrl', () => {
  const page = 'https://talks.example/2024/indexes.html'
  const media = (name: string) => `https://talks.example/media/${name}`

  it("takes the `<video src>` yt-dlp's generic extractor reports (codecs unknown), on the page's host", () => {
    const info = {
      extractor_key: 'HTML5MediaEmbed',
      formats: [{ url: media('talk.mp4'), ext: 'mp4', protocol: 'https', vcodec: null, format_id: '0' }],
    }
    expect(playableMediaUrl(info, page)).toBe(media('talk.mp4'))
    expect(toVideoInfo({ id: 'indexes-1', ...info }, page).mediaUrl).toBe(media('talk.mp4'))
  })

  it('takes the direct file of an info without formats', () => {
    expect(playableMediaUrl({ url: media('talk.webm'), ext: 'webm', direct: true }, page)).toBe(media('talk.webm'))
  })

  it('takes the best format with audio and video, before one whose codecs are unknown', () => {
    const info = {
      formats: [
        { url: media('low.mp4'), ext: 'mp4', protocol: 'https', vcodec: 'avc1.42E01E', acodec: 'mp4a.40.2' },
        { url: media('high.webm'), ext: 'webm', protocol: 'https', vcodec: 'vp9', acodec: 'opus' },
        { url: media('unknown.mp4'), ext: 'mp4', protocol: 'https' },
        { url: media('video-only.mp4'), ext: 'mp4', protocol: 'https', vcodec: 'avc1', acodec: 'none' },
        { url: media('audio-only.m4a'), ext: 'm4a', protocol: 'https', vcodec: 'none', acodec: 'mp4a.40.2' },
        { url: media('talk.m3u8'), ext: 'mp4', protocol: 'm3u8_native', vcodec: 'avc1', acodec: 'mp4a' },
        { url: media('talk.mkv'), ext: 'mkv', protocol: 'https', vcodec: 'h264', acodec: 'aac' },
        { url: media('drm.mp4'), ext: 'mp4', protocol: 'https', vcodec: 'avc1', acodec: 'mp4a', has_drm: true },
      ],
    }
    expect(playableMediaUrl(info, page)).toBe(media('high.webm'))
  })

  it('gives nothing for media on another host, another scheme, or without a playable format', () => {
    const format = { ext: 'mp4', protocol: 'https' }
    expect(playableMediaUrl({ formats: [{ ...format, url: 'https://cdn.elsewhere.example/a.mp4' }] }, page)).toBe(
      undefined,
    )
    expect(playableMediaUrl({ formats: [{ ...format, url: 'ftp://talks.example/a.mp4' }] }, page)).toBe(undefined)
    expect(playableMediaUrl({ formats: [{ ...format, url: media('a.mp4'), acodec: 'none' }] }, page)).toBe(undefined)
    expect(playableMediaUrl({ formats: [] }, page)).toBe(undefined)
    expect(playableMediaUrl({}, page)).toBe(undefined)
  })

  it('never gives a YouTube video a media URL, though its formats are plain https files', () => {
    const watch = 'https://www.youtube.com/watch?v=a-_9Zk3-Q_w'
    const info = {
      id: 'a-_9Zk3-Q_w',
      extractor_key: 'Youtube',
      formats: [
        {
          url: 'https://rr1---sn-abc.googlevideo.com/videoplayback?expire=1&sig=x',
          ext: 'mp4',
          protocol: 'https',
          vcodec: 'avc1.42001E',
          acodec: 'mp4a.40.2',
        },
      ],
    }
    expect(playableMediaUrl(info, watch)).toBe(undefined)
    expect(toVideoInfo(info, watch)).not.toHaveProperty('mediaUrl')
    // Nor a YouTube video a page embeds, whatever host its formats claim.
    const embedded = { ...info, formats: [{ ...info.formats[0], url: media('a.mp4') }] }
    expect(playableMediaUrl(embedded, page)).toBe(undefined)
  })
})
