import { describe, expect, it } from 'vitest'
import { joinSegmentTranscripts } from './index.ts'

describe('joinSegmentTranscripts', () => {
  it('joins in index order, whatever order the parts come in', () => {
    const joined = joinSegmentTranscripts([
      { index: 1, segments: [{ start: 60, end: 64, text: ' second part' }] },
      { index: 0, segments: [{ start: 0, end: 4, text: 'first part ' }] },
    ])
    expect(joined).toEqual([
      { start: 0, end: 4, text: 'first part' },
      { start: 60, end: 64, text: 'second part' },
    ])
  })

  it('drops the words the next segment repeats across an overlapping cut, ignoring case and punctuation', () => {
    const joined = joinSegmentTranscripts([
      { index: 0, segments: [{ start: 50, end: 60, text: 'and then the lighthouse keeper' }] },
      {
        index: 1,
        segments: [
          { start: 58, end: 62, text: 'Lighthouse keeper,' },
          { start: 62, end: 66, text: 'climbed the stairs.' },
        ],
      },
    ])
    expect(joined).toEqual([
      { start: 50, end: 60, text: 'and then the lighthouse keeper' },
      { start: 62, end: 66, text: 'climbed the stairs.' },
    ])
  })

  it('keeps a word said twice across a cut in a silence, and drops empty segments', () => {
    const joined = joinSegmentTranscripts([
      { index: 0, segments: [{ start: 0, end: 5, text: 'the end' }] },
      {
        index: 1,
        segments: [
          { start: 5, end: 6, text: '  ' },
          { start: 6, end: 9, text: 'end of the story' },
        ],
      },
    ])
    expect(joined.map((segment) => segment.text)).toEqual(['the end', 'end of the story'])
  })
})
