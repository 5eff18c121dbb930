import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { midSentenceStarts, openBench, scoreBench, type Bench } from './score.ts'

// The benchmark's scoring over its own fixtures, held to the targets (BM25 alone): hit@1
// ≥ 0.90, MRR@5 ≥ 0.93, 90 % of links within 3 s, none after; today 0.910, 0.942, 93 %, 0 after.
// A regression fails here.
describe('retrieval benchmark (BM25)', () => {
  let bench: Bench
  beforeAll(async () => {
    // BENCH_RETRIEVAL_SEED times the talks otherwise (see loadTalks): the floors are for seed 0,
    // the mid-sentence checks should hold for any.
    bench = await openBench({ seed: Number(process.env.BENCH_RETRIEVAL_SEED ?? 0) })
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
    expect(scores.hitAt1).toBeGreaterThanOrEqual(0.9)
    expect(scores.mrrAt5).toBeGreaterThanOrEqual(0.93)
    expect(scores.within3s).toBeGreaterThanOrEqual(0.9)
    // A link never starts after the answering sentence (a sentence leaning on the one before starts there).
    expect(scores.after).toBe(0)
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
