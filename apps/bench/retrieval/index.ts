// The retrieval benchmark: questions asked the way people ask them, over the project's own talks
// (creator captions and YouTube's rolling auto-captions, with and without punctuation), indexed
// by the indexer function and searched by `searchChunks`. Prints hit@1, MRR@5 and where the deep
// link lands against the answering sentence, for BM25 alone and hybrid (embeddings from the
// OpenAI-compatible test server: hashed bags of words, not a real model), and the search
// latency of `searchChunks` (with the moment) against the index's bare search, in interleaved rounds.
//
//   npm run bench:retrieval -- [--rounds 5] [--verbose]
import { parseArgs } from 'node:util'
import { startOpenAiTestServer } from '@ytrag/providers/testing'
import { searchChunks, toSearchHits } from '@ytrag/search'
import { deepLink } from '@ytrag/youtube'
import { midSentenceStarts, openBench, scoreBench, type Bench, type Scores } from './score.ts'
import { median } from 'simple-statistics'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, verbose: { type: 'boolean', default: false } },
})
const rounds = Number(values.rounds)

const row = (name: string, scores: Scores) =>
  `| ${name.padEnd(26)} | ${scores.hitAt1.toFixed(3)} | ${scores.mrrAt5.toFixed(3)} | ${String(scores.correctTopHits).padStart(3)} | ${scores.medianLinkLead.toFixed(2).padStart(5)} s | ${(scores.within3s * 100).toFixed(0).padStart(3)} % | ${String(scores.after).padStart(5)} | ${scores.medianChunkStartLead.toFixed(2).padStart(5)} s |`

async function run(name: string, bench: Bench): Promise<string> {
  const { results, scores } = await scoreBench(bench)
  if (values.verbose) {
    for (const result of results.filter(
      (candidate) => candidate.rank !== 0 || (candidate.linkLead ?? 0) < 0 || (candidate.linkLead ?? 0) > 3,
    )) {
      console.log(
        `  ${name}: ${result.question.talk} "${result.question.question}" rank ${result.rank ?? '-'} lead ${result.linkLead?.toFixed(2) ?? '-'}`,
      )
    }
  }
  return row(name, scores)
}

/** CPU milliseconds per question: the index's own search and a link to the chunk start (as before moments), against searchChunks. */
async function latency(
  bench: Bench,
): Promise<{ bare: number; withMoment: number; mapBare: number; mapWithMoment: number }> {
  const bare = async () => {
    for (const { question } of bench.questions) {
      const hits = await bench.fn.stores.chunks.search({ text: question, limit: 5 })
      hits.map((hit) => ({ ...hit, url: deepLink({ videoId: hit.videoId, pageUrl: hit.url, seconds: hit.start }) }))
    }
  }
  const withMoment = async () => {
    for (const { question } of bench.questions)
      await searchChunks(bench.fn.stores.chunks, { query: question, limit: 5 })
  }
  const times = { bare: [] as number[], withMoment: [] as number[] }
  await bare()
  await withMoment()
  for (let round = 0; round < rounds; round++) {
    // Interleaved, the order swapped each round, so drift and the other's warm caches cancel.
    const order = round % 2 ? (['withMoment', 'bare'] as const) : (['bare', 'withMoment'] as const)
    for (const which of order) {
      // CPU time, not wall time: on a shared machine the wall clock mostly measures the neighbours.
      const started = process.cpuUsage()
      for (let repeat = 0; repeat < 10; repeat++) await (which === 'bare' ? bare() : withMoment())
      const used = process.cpuUsage(started)
      times[which].push((used.user + used.system) / 1000 / (10 * bench.questions.length))
    }
  }
  // The added step alone, over hits already fetched: less at the mercy of a busy machine than the whole search.
  const fetched = await Promise.all(
    bench.questions.map(async ({ question }) => ({
      question,
      hits: await bench.fn.stores.chunks.search({ text: question, limit: 5 }),
    })),
  )
  const step = { bare: [] as number[], withMoment: [] as number[] }
  for (let round = 0; round < rounds; round++) {
    for (const which of ['bare', 'withMoment'] as const) {
      const started = process.cpuUsage()
      for (let repeat = 0; repeat < 50; repeat++) {
        for (const { question, hits } of fetched) {
          if (which === 'bare')
            hits.map((hit) => ({
              ...hit,
              url: deepLink({ videoId: hit.videoId, pageUrl: hit.url, seconds: hit.start }),
            }))
          else toSearchHits(hits, question)
        }
      }
      const used = process.cpuUsage(started)
      step[which].push((used.user + used.system) / 1000 / (50 * fetched.length))
    }
  }
  return {
    bare: median(times.bare),
    withMoment: median(times.withMoment),
    mapBare: median(step.bare),
    mapWithMoment: median(step.withMoment),
  }
}

const lines: string[] = []
const bm25 = await openBench()
try {
  const rolling = await midSentenceStarts(bm25, 'rolling')
  const unpunctuated = await midSentenceStarts(bm25, 'rolling-unpunctuated')
  console.log(
    `${bm25.talks.length} talks (${bm25.talks.map((talk) => `${talk.id}: ${talk.layout}`).join(', ')}), ${bm25.questions.length} questions\n`,
  )
  console.log(
    '| search                     | hit@1 | MRR@5 | ok@1 | link lead (median) | within 3 s | after | chunk-start lead |',
  )
  console.log('|----------------------------|-------|-------|-----|---------|-------|-------|---------|')
  lines.push(await run('BM25', bm25))
  console.log(lines.at(-1))
  const openai = await startOpenAiTestServer({ embeddingDimensions: 256 })
  const hybrid = await openBench({ openAiBaseUrl: openai.baseUrl })
  try {
    console.log(await run('hybrid (test-server 256-d)', hybrid))
  } finally {
    await hybrid.close()
    await openai.close()
  }
  console.log(
    "\nlink lead: the answering sentence's start minus the deep link's t, over correct top hits (within 3 s: 0 to 3 s; after: the link starts after the sentence).",
  )
  console.log("chunk-start lead: the same for a link to the chunk's start, as before hits had a moment.")
  console.log(
    `\nRolling auto-captions, punctuated: ${rolling.midSentence.length} of ${rolling.chunks} chunks start mid-sentence with a sentence start within 5 s.`,
  )
  for (const chunk of rolling.midSentence) console.log(`  ${chunk}`)
  console.log(
    `Rolling auto-captions, unpunctuated (cue groups at pauses): ${unpunctuated.midSentence.length} of ${unpunctuated.chunks} chunks start mid-sentence.`,
  )
  const { bare, withMoment, mapBare, mapWithMoment } = await latency(bm25)
  console.log(
    `\nSearch CPU time (BM25, limit 5, median of ${rounds} interleaved rounds): index search + link ${bare.toFixed(3)} ms/query, searchChunks with moment ${withMoment.toFixed(3)} ms/query: ratio ${(withMoment / bare).toFixed(3)}`,
  )
  console.log(
    `Turning 5 fetched hits into API hits: link at the start ${mapBare.toFixed(4)} ms/query, with the moment ${mapWithMoment.toFixed(4)} ms/query: the moment adds ${(((mapWithMoment - mapBare) / bare) * 100).toFixed(1)} % of the search`,
  )
} finally {
  await bm25.close()
}
