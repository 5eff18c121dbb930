// How soon a playlist's first video is searchable: the local server (as `npm start` runs it)
// ingests a page of N captioned videos from a loopback fixture site through the real yt-dlp, and
// the job is polled for its first indexed video and its end. Three setups, interleaved, in the
// same run:
//   one video       a page holding one of the videos (the floor for "first video indexed")
//   bounded         the page of N, each function taking BROKER__SUBSCRIBER_CONCURRENCY deliveries
//                   at once (the default, 4), the rest in order
//   unbounded       the page of N with every delivery started at once (SUBSCRIBER_CONCURRENCY
//                   very large): how the broker ran before
// It prints each setup's first-indexed and whole-job times (median over the runs) and the ratios
// the issue asks for: first video (bounded) / one video alone, whole job bounded / unbounded.
//
//   npm run bench:playlist -- [--videos 16] [--runs 3]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  CAPTION_FIXTURES,
  loadCaptionFixture,
  startFixtureServer,
  type FixtureVideo,
} from '../../shared/youtube/src/fixtures/index.ts'
import { startServerProcess } from '../local/test/server-process.ts'
import { median } from 'simple-statistics'

const { values } = parseArgs({
  options: { videos: { type: 'string', default: '16' }, runs: { type: 'string', default: '3' } },
})
const count = Number(values.videos)
const runs = Number(values.runs)

const videos: FixtureVideo[] = Array.from({ length: count }, (_, i) => ({
  name: `talk-${i + 1}`,
  title: `Talk ${i + 1}`,
  captions: [{ lang: 'en', label: 'English', vtt: loadCaptionFixture(CAPTION_FIXTURES[i % CAPTION_FIXTURES.length]!) }],
}))
const site = await startFixtureServer({
  videos,
  pages: [
    { path: '/one.html', title: 'One talk', videos: ['talk-1'] },
    { path: '/playlist.html', title: 'All talks', videos: videos.map((video) => video.name) },
  ],
})

type Setup = { name: string; page: string; env: Record<string, string> }
const setups: Setup[] = [
  { name: 'one video', page: '/one.html', env: {} },
  { name: 'bounded', page: '/playlist.html', env: {} },
  { name: 'unbounded', page: '/playlist.html', env: { YOUTUBE_RAG__BROKER__SUBSCRIBER_CONCURRENCY: '100000' } },
]

async function once(setup: Setup) {
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-bench-playlist-'))
  const server = await startServerProcess({
    YOUTUBE_RAG__STORAGE__DIR: dir,
    YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: site.host,
    YOUTUBE_RAG__BROKER__PING_SCHEDULE: 'off',
    YOUTUBE_RAG__LOG__LEVEL: 'warn',
    // The polling below is the only client; it must not be rate limited.
    YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '1000000',
    ...setup.env,
  })
  try {
    const started = performance.now()
    const jobId = await server.ingest(site.url(setup.page))
    let first: number | undefined
    for (;;) {
      const { status, body: job } = await server.call<{
        status: string
        videos: { total: number; indexed: number; failed: number }
      }>('GET', `/v1/jobs/${jobId}`)
      if (status !== 200)
        throw new Error(`${setup.name}: GET /v1/jobs/${jobId} answered ${status}: ${JSON.stringify(job)}`)
      const now = performance.now() - started
      if (first === undefined && job.videos.indexed > 0) first = now
      if (job.status !== 'queued' && job.status !== 'running') {
        if (job.videos.indexed !== job.videos.total)
          throw new Error(`${setup.name}: job ended ${job.status} with ${JSON.stringify(job.videos)}`)
        return { first: first ?? now, whole: now }
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const results = new Map<string, Array<{ first: number; whole: number }>>(setups.map((setup) => [setup.name, []]))
for (let run = 1; run <= runs; run++) {
  for (const setup of setups) {
    const result = await once(setup)
    results.get(setup.name)!.push(result)
    process.stdout.write(
      `run ${run} ${setup.name.padEnd(10)} first indexed ${(result.first / 1000).toFixed(2)} s, job ${(result.whole / 1000).toFixed(2)} s\n`,
    )
  }
}
const summary = Object.fromEntries(
  setups.map((setup) => {
    const runsOf = results.get(setup.name)!
    return [setup.name, { first: median(runsOf.map((r) => r.first)), whole: median(runsOf.map((r) => r.whole)) }]
  }),
)
process.stdout.write(`\nmedians over ${runs} runs, ${count} videos:\n`)
for (const setup of setups)
  process.stdout.write(
    `  ${setup.name.padEnd(10)} first indexed ${(summary[setup.name]!.first / 1000).toFixed(2)} s, job ${(summary[setup.name]!.whole / 1000).toFixed(2)} s\n`,
  )
process.stdout.write(
  `first video indexed (bounded) / one video alone: ${(summary.bounded!.first / summary['one video']!.whole).toFixed(2)}x (target <= 2x)\n` +
    `first video indexed (unbounded) / one video alone: ${(summary.unbounded!.first / summary['one video']!.whole).toFixed(2)}x\n` +
    `whole job bounded / unbounded: ${(summary.bounded!.whole / summary.unbounded!.whole).toFixed(2)}x (target <= 1x)\n`,
)
await site.close()
