import { describe, expect, it } from 'vitest'
import { chapterAt } from './index.ts'

const chapters = [
  { title: 'Intro', start: 0, end: 25.3 },
  { title: 'B-trees', start: 25.3, end: 63.5 },
  { title: 'Outro', start: 70, end: 90 },
]

describe('chapterAt', () => {
  it('finds the chapter a moment falls in, its start included and its end not', () => {
    expect(chapterAt(chapters, 0)?.title).toBe('Intro')
    expect(chapterAt(chapters, 25.29)?.title).toBe('Intro')
    expect(chapterAt(chapters, 25.3)?.title).toBe('B-trees')
    expect(chapterAt(chapters, 89.9)?.title).toBe('Outro')
  })

  it('finds none in a gap, after the last chapter, before the first, or without chapters', () => {
    expect(chapterAt(chapters, 65)).toBeUndefined()
    expect(chapterAt(chapters, 90)).toBeUndefined()
    expect(chapterAt([{ title: 'Late', start: 10, end: 20 }], 5)).toBeUndefined()
    expect(chapterAt([], 5)).toBeUndefined()
  })

  it('does not depend on the order chapters are listed in', () => {
    expect(chapterAt([...chapters].reverse(), 30)?.title).toBe('B-trees')
  })
})
