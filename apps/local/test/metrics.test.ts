// What the dashboard and the alerts read is what the functions really expose: the local
// pipeline ingests (captions and speech-to-text), searches and answers with the OpenAI-compatible
// test server, then every metric named in knative/base/monitoring (the dashboard's and the
// PrometheusRule's expressions) must have samples on some function's /metrics.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import { startFixtureServer, type FixtureServer } from '@ytrag/youtube/fixtures'
import { parse } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as z from 'zod'
import { startLocalServer, type LocalServer } from '../src/index.ts'

const monitoring = resolve(import.meta.dirname, '../../../knative/base/monitoring')
const dashboardText = readFileSync(join(monitoring, 'dashboard.json'), 'utf8')
const rule = parse(readFileSync(join(monitoring, 'prometheusrule.yaml'), 'utf8'))

/** The part of Grafana's dashboard model the sidecar and Grafana need, strictly where we rely on it. */
const target = z.object({
  refId: z.string(),
  expr: z.string().min(1),
  datasource: z.object({ type: z.literal('prometheus'), uid: z.string() }),
  legendFormat: z.string(),
})
const dashboardSchema = z
  .object({
    uid: z.string().regex(/^[\w-]{1,40}$/),
    title: z.string().min(1),
    schemaVersion: z.number().int().min(36),
    templating: z.object({
      list: z.array(
        z.object({ name: z.string(), type: z.enum(['datasource', 'query', 'custom', 'constant']) }).passthrough(),
      ),
    }),
    panels: z
      .array(
        z
          .object({
            id: z.number().int(),
            type: z.enum(['timeseries', 'stat', 'gauge', 'table', 'logs']),
            title: z.string().min(1),
            gridPos: z.object({
              h: z.number(),
              w: z.number().max(24),
              x: z.number().min(0).max(23),
              y: z.number().min(0),
            }),
            targets: z.array(target).min(1),
          })
          .passthrough(),
      )
      .min(1),
  })
  .passthrough()

/** The ytrag_* metric names an expression reads (histograms by their series names: _bucket, _count). */
const metricNames = (expr: string) => [...expr.matchAll(/\bytrag_[a-z_]+\b/g)].map((match) => match[0])

/** The sample names of a Prometheus text exposition that have at least one sample. */
function sampledNames(exposition: string): Set<string> {
  const names = new Set<string>()
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    names.add(/^[a-zA-Z_:][\w:]*/.exec(line)![0])
  }
  return names
}

describe('metrics after a pipeline run', () => {
  let fixtures: FixtureServer
  let openai: OpenAiTestServer
  let server: LocalServer
  let dir: string

  beforeAll(async () => {
    fixtures = await startFixtureServer()
    openai = await startOpenAiTestServer({ chatScript: () => 'The penny-farthing came first [1].' })
    dir = mkdtempSync(join(tmpdir(), 'ytrag-metrics-'))
    server = await startLocalServer({
      env: {
        YOUTUBE_RAG__STORAGE__DIR: dir,
        YOUTUBE_RAG__SERVER__PORT: '0',
        YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.01',
        YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host,
        YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
        YOUTUBE_RAG__OPENAI__EMBEDDING_DIMENSIONS: '64',
        YOUTUBE_RAG__LOG__LEVEL: 'silent',
      },
    })
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      })
    // Every sample video: captions for most, speech-to-text for the one without.
    const { jobId } = (await (await post('/v1/ingest', { url: fixtures.url('/all.html') })).json()) as { jobId: string }
    await server.broker.idle()
    expect(((await (await fetch(`${server.url}/v1/jobs/${jobId}`)).json()) as { status: string }).status).toBe(
      'succeeded',
    )
    expect((await post('/v1/search', { query: 'penny-farthing' })).status).toBe(200)
    expect((await post('/v1/ask', { question: 'Which bicycle came first?' })).status).toBe(200)
    await (await post('/v1/ask', { question: 'Which bicycle came first?' }, { accept: 'text/event-stream' })).text()
    expect((await fetch(`${server.url}/v1/jobs/no-such-job`)).status).toBe(404)
    // A delivery that failed for good, as the broker hands it to the dead-letter function.
    const deadLettered = await fetch(server.functionUrls['dead-letter']!, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'dead-1',
        'ce-source': '/functions/discover',
        'ce-type': 'io.youtube-rag.video.discovered.v1',
        'ce-knativeerrordest': 'http://indexer.local/',
        'ce-knativeerrorcode': '500',
      },
      body: JSON.stringify({ jobId, videoId: 'nowhere' }),
    })
    expect(deadLettered.status).toBe(202)
  }, 240_000)

  afterAll(async () => {
    await server?.close()
    await openai?.close()
    await fixtures?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const scrapeAll = async () => {
    const pages = await Promise.all(
      Object.values(server.functionUrls).map(async (url) => (await fetch(new URL('/metrics', url))).text()),
    )
    return { pages, names: sampledNames(pages.join('\n')) }
  }

  it('the dashboard fits the dashboard model, with namespace and function variables', () => {
    const dashboard = dashboardSchema.parse(JSON.parse(dashboardText))
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(
      expect.arrayContaining(['namespace', 'function']),
    )
    for (const panel of dashboard.panels)
      for (const { expr } of panel.targets) expect(expr).toMatch(/namespace=~"\$namespace"/)
  })

  it('has samples for every metric the dashboard and the alerts read', async () => {
    const dashboard = dashboardSchema.parse(JSON.parse(dashboardText))
    const exprs = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((t) => t.expr)),
      ...rule.spec.groups.flatMap((group: { rules: { expr: string }[] }) => group.rules.map((r) => r.expr)),
    ]
    const wanted = [...new Set(exprs.flatMap(metricNames))].sort()
    expect(wanted.length).toBeGreaterThan(15)
    const { names } = await scrapeAll()
    expect(wanted.filter((name) => !names.has(name))).toEqual([])
  })

  it('labels what happened: routes by pattern, search mode, model tokens, yt-dlp tasks, work in progress', async () => {
    const text = (await scrapeAll()).pages.join('\n')
    expect(text).toMatch(/ytrag_http_request_duration_seconds_count\{[^}]*route="\/v1\/jobs\/:jobId"[^}]*status="404"/)
    expect(text).not.toMatch(/route="\/v1\/jobs\/no-such-job"/)
    expect(text).toMatch(/ytrag_search_duration_seconds_count\{[^}]*backend="[^"]+",mode="hybrid"/)
    expect(text).toMatch(
      /ytrag_provider_tokens_total\{[^}]*api="chat",model="gpt-4o-mini",kind="completion"[^}]*\} [1-9]/,
    )
    expect(text).toMatch(/ytrag_provider_tokens_total\{[^}]*api="embeddings"[^}]*kind="prompt"[^}]*\} [1-9]/)
    expect(text).toMatch(/ytrag_provider_cost_dollars_total\{[^}]*api="transcription"[^}]*\} 0\.0*[1-9]/)
    expect(text).toMatch(/ytrag_ytdlp_run_duration_seconds_count\{[^}]*task="captions",outcome="ok"/)
    expect(text).toMatch(/ytrag_videos\{[^}]*stage="index",status="done"[^}]*\} 4/)
    expect(text).toMatch(/ytrag_jobs_active\{[^}]*\} 0/)
    expect(text).toMatch(/ytrag_dead_letters_total\{[^}]*service="indexer"[^}]*\} 1/)
    expect(text).toMatch(/ytrag_broker_deliveries_total\{[^}]*outcome="delivered"[^}]*\} [1-9]/)
  })
})
