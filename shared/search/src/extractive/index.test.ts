import { describe, expect, it } from 'vitest'
import type { SearchHit } from '@ytrag/domain'
import { queryTerms } from '../moment/index.ts'
import { bestSentence, extractiveAnswer } from './index.ts'

const hit = (n: number, text: string): SearchHit => ({
  videoId: `v${n}`,
  title: `Video ${n}`,
  start: n * 100,
  end: n * 100 + 20,
  moment: n * 100,
  text,
  score: 1 / n,
  url: `https://www.youtube.com/watch?v=v${n}&t=${n * 100}s`,
})

describe('extractive answers', () => {
  it('drops stop words and meets inflections halfway', () => {
    expect(queryTerms('What is caching in the indexes?')).toEqual(['cach', 'index'])
  })

  it('quotes the sentence of a passage that shares most with the question', () => {
    const text = 'Tables are big. A covering index holds every column the query reads. So the table is never touched.'
    expect(bestSentence(text, queryTerms('what does a covering index hold'))).toBe(
      'A covering index holds every column the query reads.',
    )
    expect(bestSentence('First one. Second one.', ['nothing'])).toBe('First one.')
  })

  it('cites passages in rank order, each with its number, at most maxPassages', () => {
    const answer = extractiveAnswer(
      'covering index',
      [hit(1, 'A covering index helps. Other.'), hit(2, 'Indexes cost writes.'), hit(3, 'Unrelated.')],
      { maxPassages: 2 },
    )
    expect(answer.mode).toBe('extractive')
    expect(answer.citations.map((citation) => [citation.n, citation.videoId, citation.url])).toEqual([
      [1, 'v1', 'https://www.youtube.com/watch?v=v1&t=100s'],
      [2, 'v2', 'https://www.youtube.com/watch?v=v2&t=200s'],
    ])
    expect(answer.answer).toBe('From the videos:\n- A covering index helps. [1]\n- Indexes cost writes. [2]')
  })

  it('quotes, in each passage, the word the passages do not all say', () => {
    const answer = extractiveAnswer('why were steam trains dangerous', [
      hit(1, 'These steam trains were fast and cheap. They were also dangerous, since steam boilers could burst.'),
      hit(2, 'Steam trains crossed the country by 1850. Trains carried the mail too.'),
    ])
    expect(answer.answer).toBe(
      'From the videos:\n- They were also dangerous, since steam boilers could burst. [1]\n- Steam trains crossed the country by 1850. [2]',
    )
  })

  it("quotes what is said at each hit's moment, which the search chose with the index's words", () => {
    // The search widened "designed" to "architect": the moment is there, not where the question's own words are.
    const designed = {
      ...hit(1, 'The lighthouse was designed to last. Its architect was Sostratus of Cnidus.'),
      moment: 104,
      quote: 'Its architect was Sostratus of Cnidus.',
    }
    const answer = extractiveAnswer('who designed the lighthouse', [
      designed,
      hit(2, 'The lighthouse stood for centuries.'),
    ])
    expect(answer.answer).toBe(
      'From the videos:\n- Its architect was Sostratus of Cnidus. [1]\n- The lighthouse stood for centuries. [2]',
    )
    expect(answer.citations[0]?.quote).toBe('Its architect was Sostratus of Cnidus.')
    expect(answer.citations[1]).not.toHaveProperty('quote')
  })

  it("gives each citation its passage's chapter, when it has one", () => {
    const answer = extractiveAnswer('covering index', [
      { ...hit(1, 'A covering index helps.'), chapter: { title: 'Covering indexes', start: 90 } },
      hit(2, 'Indexes cost writes.'),
    ])
    expect(answer.citations[0]?.chapter).toEqual({ title: 'Covering indexes', start: 90 })
    expect(answer.citations[1]).not.toHaveProperty('chapter')
  })

  it('says so when nothing matches, citing nothing', () => {
    expect(extractiveAnswer('anything', [])).toEqual({
      answer: 'No indexed video says anything about that yet.',
      mode: 'extractive',
      citations: [],
    })
  })
})
