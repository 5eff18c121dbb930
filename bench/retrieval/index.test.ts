import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { midSentenceStarts, openBench, scoreBench, type Bench } from './score.ts'

// The benchmark's scoring over its own fixtures, held to the floors reached now (BM25 alone,
// before query analysis drops stop words and lemmatises): a regression fails here. The issue's
// targets (hit@1 ≥ 0.90, MRR@5 ≥ 0.93, 90 % of links within 3 s, none after) are not reached yet:
// today 0.76, 0.85, 84 %, 2 after.
describe('retrieval benchmark (BM25)', () => {
  let bench: Bench
  beforeAll(async () => {
    bench = await openBench()
  })
  afterAll(() => bench?.close())

  it('has at least 6 talks, in creator and rolling auto-caption layouts, and 60 questions', () => {
    expect(bench.talks.length).toBeGreaterThanOrEqual(6)
    expect(new Set(bench.talks.map((talk) => talk.layout))).toEqual(
      new Set(['creator', 'rolling', 'rolling-unpunctuated']),
    )
    expect(bench.questions.length).toBeGreaterThanOrEqual(60)
  })

  it('finds the answering sentence and links near it at least as well as now', async () => {
    const { scores } = await scoreBench(bench)
    // Today's floors (issue 15's targets, 0.90 / 0.93 / 90 % / none after, are not reached yet).
    expect(scores.hitAt1).toBeGreaterThanOrEqual(0.78)
    expect(scores.mrrAt5).toBeGreaterThanOrEqual(0.84)
    expect(scores.within3s).toBeGreaterThanOrEqual(0.77)
    expect(scores.after).toBeLessThanOrEqual(3)
    // The moment is much nearer the answer than the chunk's start was.
    expect(scores.medianLinkLead).toBeLessThan(scores.medianChunkStartLead / 2)
  })

  for (const layout of ['rolling', 'rolling-unpunctuated'] as const) {
    it(`starts no chunk of ${layout} auto-captions mid-sentence where a sentence starts within 5 s`, async () => {
      const { chunks, midSentence } = await midSentenceStarts(bench, layout)
      expect(chunks).toBeGreaterThan(5)
      expect(midSentence).toEqual([])
    })
  }
})
