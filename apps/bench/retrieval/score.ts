// Runs the benchmark's questions through the real pipeline: the indexer function (over HTTP,
// with its embedded stores and, for the hybrid row, embeddings from an OpenAI-compatible
// server) indexes each talk's captions, and `searchChunks` answers each question.
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { indexer } from '@ytrag/indexer'
import type { SearchHit } from '@ytrag/domain'
import { searchChunks } from '@ytrag/search'
import type { StoredTranscript } from '@ytrag/domain'
import { blobKeys, transcriptBlob } from '@ytrag/stores'
import { loadQuestions, loadTalks, normalized, type Question, type Talk } from './fixtures.ts'
import { median } from 'simple-statistics'

export interface QuestionResult {
  question: Question
  /** Where the first hit holding the answering sentence ranks in the top 5, from 0; undefined when none does. */
  rank: number | undefined
  /** For a correct top hit: the answering sentence's start minus the deep link's `t` (positive: the link is before it). */
  linkLead?: number
  /** The same for a link to the chunk's start, as hits linked before they had a moment. */
  chunkStartLead?: number
}

export interface Scores {
  questions: number
  hitAt1: number
  mrrAt5: number
  /** Over correct top hits. */
  correctTopHits: number
  medianLinkLead: number
  /** Share of correct top hits whose link is at most 3 s before the answering sentence and not after it. */
  within3s: number
  /** Correct top hits linked after the start of the answering sentence. */
  after: number
  medianChunkStartLead: number
}

export interface Bench {
  talks: Talk[]
  questions: Question[]
  fn: FunctionUnderTest
  /** The query's embedding for hybrid search; undefined for BM25 alone. */
  embed: ((text: string) => Promise<number[]>) | undefined
  close(): Promise<void>
}

const videoIdOf = (talk: Talk) => `bench-${talk.id}`

/**
 * Indexes every talk through the indexer function. With `openAiBaseUrl`, chunks and queries are
 * embedded by that server (hybrid search); without, BM25 alone. `seed` times the talks otherwise (see `loadTalks`).
 */
export async function openBench({
  openAiBaseUrl,
  seed,
}: {
  openAiBaseUrl?: string
  seed?: number
} = {}): Promise<Bench> {
  const talks = loadTalks({ seed })
  const questions = loadQuestions(talks)
  const fn = await startFunctionUnderTest(
    indexer,
    openAiBaseUrl
      ? { YOUTUBE_RAG__OPENAI__BASE_URL: openAiBaseUrl, YOUTUBE_RAG__OPENAI__EMBEDDING_DIMENSIONS: '256' }
      : {},
  )
  try {
    await fn.stores.documents.createJob({ jobId: 'bench', url: 'https://www.youtube.com/playlist?list=bench' })
    for (const talk of talks) {
      const videoId = videoIdOf(talk)
      await fn.stores.documents.insertVideo({
        videoId,
        url: `https://www.youtube.com/watch?v=${videoId}`,
        title: talk.title,
      })
      await fn.stores.documents.addJobVideos('bench', [videoId])
      const source = talk.layout === 'creator' ? 'captions' : 'auto-captions'
      const transcript: StoredTranscript = { videoId, source, language: 'en', segments: talk.segments }
      await transcriptBlob.write(fn.stores.blobs, transcript)
      const answer = await fn.deliver('transcript.ready', videoId, {
        jobId: 'bench',
        videoId,
        blobKey: blobKeys.transcript(videoId),
        source,
        language: 'en',
      })
      if (answer.status >= 300) throw new Error(`indexing ${talk.id} answered ${answer.status}: ${await answer.text()}`)
      if ((await fn.stores.documents.getVideo(videoId))?.status !== 'indexed')
        throw new Error(`${talk.id} was not indexed`)
    }
  } catch (error) {
    await fn.close()
    throw error
  }
  const embeddings = fn.providers.embeddings
  const embed = embeddings ? async (text: string) => (await embeddings.embed([text]))[0]! : undefined
  return { talks, questions, fn, embed, close: () => fn.close() }
}

/** The top 5 hits for a question, as the API's search gives them. */
async function ask(bench: Bench, question: string): Promise<SearchHit[]> {
  const embedding = bench.embed ? await bench.embed(question) : undefined
  return searchChunks(bench.fn.stores.chunks, { query: question, limit: 5, ...(embedding ? { embedding } : {}) })
}

const linkSeconds = (url: string) => Number(/[&#]t=(\d+)/.exec(url)?.[1])

/** How one question fared. */
function judge(talks: Talk[], question: Question, hits: SearchHit[]): QuestionResult {
  const talk = talks.find((candidate) => candidate.id === question.talk)!
  const sentence = talk.sentences[question.answer]!
  const wanted = normalized(sentence.text)
  const rank = hits.findIndex((hit) => hit.videoId === videoIdOf(talk) && normalized(hit.text).includes(wanted))
  if (rank !== 0) return { question, rank: rank === -1 ? undefined : rank }
  const top = hits[0]!
  return {
    question,
    rank,
    linkLead: sentence.start - linkSeconds(top.url),
    chunkStartLead: sentence.start - Math.floor(top.start),
  }
}

/** The median, NaN for none (a bench where no top hit was right). */
const medianOf = (values: number[]) => (values.length > 0 ? median(values) : Number.NaN)

/** hit@1, MRR@5 and where the links land, over every question. */
function summarize(results: QuestionResult[]): Scores {
  const correct = results.filter((result) => result.rank === 0)
  const leads = correct.map((result) => result.linkLead!)
  // A link's `t` is whole seconds; 1 ms of slack absorbs the sentence times' own rounding.
  return {
    questions: results.length,
    hitAt1: correct.length / results.length,
    mrrAt5:
      results.reduce((sum, result) => sum + (result.rank === undefined ? 0 : 1 / (result.rank + 1)), 0) /
      results.length,
    correctTopHits: correct.length,
    medianLinkLead: medianOf(leads),
    within3s: leads.filter((lead) => lead >= -0.001 && lead <= 3).length / Math.max(1, leads.length),
    after: leads.filter((lead) => lead < -0.001).length,
    medianChunkStartLead: medianOf(correct.map((result) => result.chunkStartLead!)),
  }
}

/** Every question asked and judged. */
export async function scoreBench(bench: Bench): Promise<{ results: QuestionResult[]; scores: Scores }> {
  const results: QuestionResult[] = []
  for (const question of bench.questions)
    results.push(judge(bench.talks, question, await ask(bench, question.question)))
  return { results, scores: summarize(results) }
}

/**
 * Chunks of the rolling-caption talks that start mid-sentence although a sentence starts within
 * 5 s of them: what a sentence-aware chunker must not do. Read from the index, as stored.
 */
export async function midSentenceStarts(
  bench: Bench,
  layout: 'rolling' | 'rolling-unpunctuated' = 'rolling',
): Promise<{ chunks: number; midSentence: string[] }> {
  let chunks = 0
  const midSentence: string[] = []
  for (const talk of bench.talks.filter((candidate) => candidate.layout === layout)) {
    // Every chunk holds some sentence's words: searching for each sentence finds them all.
    const found = new Map<string, { start: number; text: string }>()
    for (const sentence of talk.sentences) {
      for (const hit of await bench.fn.stores.chunks.search({
        text: sentence.text,
        limit: 100,
        filter: { videoIds: [videoIdOf(talk)] },
      }))
        found.set(hit.id, hit)
    }
    const hits = [...found.values()]
    const starts = talk.sentences.map((sentence) => normalized(sentence.text))
    for (const hit of hits) {
      chunks++
      const text = normalized(hit.text)
      const atSentenceStart = starts.some((start) => text.startsWith(start.split(' ').slice(0, 6).join(' ')))
      const boundaryNear = talk.sentences.some((sentence) => Math.abs(sentence.start - hit.start) <= 5)
      if (!atSentenceStart && boundaryNear)
        midSentence.push(`${talk.id} @${hit.start.toFixed(1)}: ${hit.text.slice(0, 60)}…`)
    }
  }
  return { chunks, midSentence }
}
