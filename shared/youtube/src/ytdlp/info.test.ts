import { describe, expect, it } from 'vitest'
import { chaptersOf, toVideoInfo } from './info.ts'

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
