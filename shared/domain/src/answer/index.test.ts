import { describe, expect, it } from 'vitest'
import { searchHitSchema } from '../hit/index.ts'
import { answerSchema, citationSchema, citePassage } from './index.ts'

const hit = {
  videoId: 'v1',
  title: 'Indexes',
  start: 100,
  end: 120,
  moment: 104.5,
  text: 'A covering index holds every column the query reads.',
  score: 0.42,
  url: 'https://www.youtube.com/watch?v=v1&t=104s',
}

describe('citePassage', () => {
  it('cites a hit as [n] with its own fields, leaving its score behind', () => {
    const citation = citePassage(2, searchHitSchema.parse(hit))
    expect(citation).toEqual({ n: 2, ...hit, score: undefined })
    expect(citation).not.toHaveProperty('score')
    expect(citationSchema.parse(citation)).toEqual(citation)
  })

  it('keeps the chapter the passage starts in', () => {
    const citation = citePassage(1, { ...hit, chapter: { title: 'B-trees', start: 90 } })
    expect(citation.chapter).toEqual({ title: 'B-trees', start: 90 })
  })
})

describe('the domain schemas', () => {
  it('are strict: a field the type does not have is refused', () => {
    expect(() => answerSchema.parse({ answer: 'x', mode: 'extractive', citations: [], extra: 1 })).toThrow(/extra/)
  })
})
