import { subscribe } from 'node:diagnostics_channel'
import type { Config } from '@ytrag/config'
import { PROVIDER_CALL_CHANNEL, type ProviderCallMessage } from '@ytrag/providers/diagnostics'
import type { DocumentStore } from '@ytrag/stores'
import { YTDLP_RUN_CHANNEL, type YtDlpRunMessage } from '@ytrag/youtube/diagnostics'
// The four classes every start makes metrics with, each from its own module: prom-client's index
// also loads the summary, pushgateway, cluster and default-metrics modules (node:cluster, node:v8,
// perf_hooks, OpenTelemetry's API), ~12 ms of a cold start's CPU. The default metrics load at the
// first scrape (below).
import Counter from 'prom-client/lib/counter.js'
import Gauge from 'prom-client/lib/gauge.js'
import Histogram from 'prom-client/lib/histogram.js'
import Registry from 'prom-client/lib/registry.js'
import { currentScope } from '../scope/index.ts'

/** What the local broker counts (@ytrag/broker's LocalBrokerStats): read at each scrape. */
export interface BrokerCounts {
  delivered: number
  retried: number
  deadLettered: number
  failed: number
  dropped: number
}

export interface FunctionMetricsOptions {
  /** The document store whose work in progress the gauges read at each scrape (any replica reads the same). */
  documents?: Pick<DocumentStore, 'workInProgress'>
  /** Prices and the daily budget (TELEMETRY__*); default: the config's defaults. */
  telemetry?: Config['telemetry']
  /** The local broker's counts, shown as `ytrag_broker_deliveries_total` (local mode, by the dead-letter function). */
  brokerCounts?: () => BrokerCounts
  /** Counters of the function's own declared up front, each label value listed starting at 0 (so `rate()` sees them before the first event). */
  counters?: CounterDeclaration[]
}

/** A counter a function counts with `count(name, …)`, shown at 0 for every listed label value from the start. */
export interface CounterDeclaration {
  name: string
  help: string
  /** One label and its values, e.g. `{ outcome: ['ok', 'failed'] }`. */
  labels?: Record<string, string[]>
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const SLOW_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600]

/**
 * A function's Prometheus metrics in a registry of its own (several functions share one
 * process in local mode, and each `/metrics` shows only its own). Labels are bounded: routes are
 * the matched patterns, models and backends come from the config, outcomes from fixed lists.
 * What shared libraries do (model calls, yt-dlp runs) reaches the metrics of the function whose
 * request or event caused it (see `recordLibraryDiagnostics`).
 *
 * @example
 * ```ts
 * const metrics = functionMetrics('indexer')
 * const done = metrics.startEventTimer('io.youtube-rag.transcript.ready.v1')
 * done('ok')
 * ```
 */
export function functionMetrics(name: string, options: FunctionMetricsOptions = {}) {
  recordLibraryDiagnostics()
  const registry = new Registry()
  registry.setDefaultLabels({ function: name })
  // Node's default metrics (GC observer, event-loop monitor, /proc readers) cost a cold start
  // ~10 ms before its first readiness answer; they start at the first scrape instead, which is
  // when anyone first reads them (the GC and event-loop histograms count from then on).
  let defaultsRegistered: Promise<void> | undefined
  const registers = [registry]
  const events = new Counter({
    name: 'ytrag_events_total',
    help: 'CloudEvents received, by type and outcome (ok, invalid, malformed, error)',
    labelNames: ['type', 'outcome'],
    registers,
  })
  const eventSeconds = new Histogram({
    name: 'ytrag_event_duration_seconds',
    help: 'Time spent handling one CloudEvent',
    labelNames: ['type', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
    registers,
  })
  const http = new Histogram({
    name: 'ytrag_http_request_duration_seconds',
    help: 'HTTP requests served, by method, route (the matched pattern) and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.02, 0.1, 0.5, 1, 5, 30],
    registers,
  })
  const search = new Histogram({
    name: 'ytrag_search_duration_seconds',
    help: 'Chunk index searches, by backend (sqlite, qdrant) and mode (bm25, hybrid)',
    labelNames: ['backend', 'mode'],
    buckets: LATENCY_BUCKETS,
    registers,
  })
  const providerSeconds = new Histogram({
    name: 'ytrag_provider_request_duration_seconds',
    help: 'Model API calls, by api (embeddings, chat, transcription), model and outcome (ok, error)',
    labelNames: ['api', 'model', 'outcome'],
    buckets: SLOW_BUCKETS,
    registers,
  })
  const providerTokens = new Counter({
    name: 'ytrag_provider_tokens_total',
    help: 'Tokens the model APIs reported, by api, model and kind (prompt, completion)',
    labelNames: ['api', 'model', 'kind'],
    registers,
  })
  const providerCost = new Counter({
    name: 'ytrag_provider_cost_dollars_total',
    help: 'Estimated spend on model APIs in dollars (TELEMETRY__*_DOLLARS_PER_*), by api and model',
    labelNames: ['api', 'model'],
    registers,
  })
  const telemetry = options.telemetry
  new Gauge({
    name: 'ytrag_spend_budget_dollars',
    help: 'The daily model spend alerted on (TELEMETRY__DAILY_BUDGET_DOLLARS)',
    registers,
  }).set(telemetry?.dailyBudgetDollars ?? 20)
  const ytdlp = new Histogram({
    name: 'ytrag_ytdlp_run_duration_seconds',
    help: 'yt-dlp runs, by task (list, info, captions, audio) and outcome (ok, unavailable, bot_check, rate_limited, timeout, error)',
    labelNames: ['task', 'outcome'],
    buckets: SLOW_BUCKETS,
    registers,
  })
  if (options.documents) workInProgressGauges(options.documents, registers)
  if (options.brokerCounts) brokerCounter(options.brokerCounts, registers)

  const ownCounters = new Map<string, Counter>()
  for (const declared of options.counters ?? []) {
    const labelNames = Object.keys(declared.labels ?? {})
    const counter = new Counter({ name: declared.name, help: declared.help, labelNames, registers })
    for (const [label, values] of Object.entries(declared.labels ?? {}))
      for (const value of values) counter.inc({ [label]: value }, 0)
    if (labelNames.length === 0) counter.inc(0)
    ownCounters.set(declared.name, counter)
  }
  return {
    registry,
    /** The exposition text for a scrape of /metrics (Node's default metrics registered at the first). */
    async scrape(): Promise<string> {
      // Its own module (CommonJS, the function is its `default` in Node and in a bundle's chunk alike).
      defaultsRegistered ??= import('prom-client/lib/defaultMetrics.js').then(({ default: collectDefaultMetrics }) =>
        collectDefaultMetrics({ register: registry }),
      )
      await defaultsRegistered
      return registry.metrics()
    },
    /**
     * Adds to a counter of the function's own (made on first use, with the label names of its
     * first use), e.g. seconds of audio transcribed, or channel syncs by outcome.
     */
    count(counterName: string, help: string, value = 1, labels: Record<string, string> = {}) {
      let counter = ownCounters.get(counterName)
      if (!counter) {
        counter = new Counter({ name: counterName, help, labelNames: Object.keys(labels), registers })
        ownCounters.set(counterName, counter)
      }
      counter.inc(labels, value)
    },
    countEvent(type: string, outcome: string) {
      events.inc({ type, outcome })
    },
    startEventTimer(type: string) {
      const end = eventSeconds.startTimer({ type })
      return (outcome: string) => {
        end({ outcome })
        events.inc({ type, outcome })
      }
    },
    observeHttp(method: string, route: string, status: number, seconds: number) {
      http.observe({ method, route, status: String(status) }, seconds)
    },
    observeSearch(backend: string, mode: 'bm25' | 'hybrid', seconds: number) {
      search.observe({ backend, mode }, seconds)
    },
    observeProviderCall(call: ProviderCallMessage) {
      providerSeconds.observe({ api: call.api, model: call.model, outcome: call.outcome }, call.seconds)
      const prompt = call.promptTokens ?? 0
      const completion = call.completionTokens ?? 0
      if (call.promptTokens !== undefined)
        providerTokens.inc({ api: call.api, model: call.model, kind: 'prompt' }, prompt)
      if (call.completionTokens !== undefined)
        providerTokens.inc({ api: call.api, model: call.model, kind: 'completion' }, completion)
      const dollars = costOf(call, prompt, completion, telemetry)
      if (dollars > 0) providerCost.inc({ api: call.api, model: call.model }, dollars)
    },
    observeYtdlpRun(run: YtDlpRunMessage) {
      ytdlp.observe({ task: run.task, outcome: run.outcome }, run.seconds)
    },
  }
}

export type FunctionMetrics = ReturnType<typeof functionMetrics>

const DEFAULT_PRICES = {
  chatPromptDollarsPerMillionTokens: 0.15,
  chatCompletionDollarsPerMillionTokens: 0.6,
  embeddingDollarsPerMillionTokens: 0.02,
  transcriptionDollarsPerMinute: 0.006,
}

function costOf(
  call: ProviderCallMessage,
  prompt: number,
  completion: number,
  prices: Partial<Config['telemetry']> = DEFAULT_PRICES,
) {
  const price = { ...DEFAULT_PRICES, ...prices }
  if (call.api === 'chat')
    return (
      (prompt * price.chatPromptDollarsPerMillionTokens + completion * price.chatCompletionDollarsPerMillionTokens) /
      1e6
    )
  if (call.api === 'embeddings') return (prompt * price.embeddingDollarsPerMillionTokens) / 1e6
  return ((call.audioSeconds ?? 0) / 60) * price.transcriptionDollarsPerMinute
}

let subscribed = false

/**
 * Subscribes once per process to what shared libraries publish (model calls, yt-dlp runs) and
 * records each on the metrics of the function whose request or event is running (its scope).
 * Work outside any function (the CLI) is not recorded.
 */
function recordLibraryDiagnostics() {
  if (subscribed) return
  subscribed = true
  subscribe(PROVIDER_CALL_CHANNEL, (message) =>
    currentScope()?.metrics.observeProviderCall(message as ProviderCallMessage),
  )
  subscribe(YTDLP_RUN_CHANNEL, (message) => currentScope()?.metrics.observeYtdlpRun(message as YtDlpRunMessage))
}

/**
 * Gauges of the work in progress, read from the document store at each scrape: every replica
 * of every function reports the same numbers (dashboards take `max`).
 */
function workInProgressGauges(documents: Pick<DocumentStore, 'workInProgress'>, registers: Registry[]) {
  // One read of the store per scrape serves the four gauges.
  let reading: Promise<Awaited<ReturnType<DocumentStore['workInProgress']>>> | undefined
  const read = () =>
    (reading ??= documents.workInProgress(new Date()).finally(() => {
      setTimeout(() => (reading = undefined), 1000).unref()
    }))
  new Gauge({
    name: 'ytrag_jobs_active',
    help: 'Ingest jobs not finished (discovery pending or a video still in the pipeline), from the document store',
    registers,
    async collect() {
      this.set((await read()).activeJobs)
    },
  })
  new Gauge({
    name: 'ytrag_jobs_oldest_active_idle_seconds',
    help: 'How long the active job that changed least recently has not changed (0 when none is active)',
    registers,
    async collect() {
      this.set((await read()).oldestActiveIdleSeconds)
    },
  })
  new Gauge({
    name: 'ytrag_videos',
    help: "Videos by pipeline stage (download, transcribe, index) and that stage's status, from the document store",
    labelNames: ['stage', 'status'],
    registers,
    async collect() {
      this.reset()
      for (const { stage, status, count } of (await read()).videos) this.set({ stage, status }, count)
    },
  })
  new Gauge({
    name: 'ytrag_hosts_backed_off',
    help: 'Hosts currently backed off after refusing this server (a 429, a bot check)',
    registers,
    async collect() {
      this.set((await read()).hostsBackedOff)
    },
  })
}

const BROKER_OUTCOMES: Record<string, keyof BrokerCounts> = {
  delivered: 'delivered',
  retried: 'retried',
  dead_lettered: 'deadLettered',
  lost: 'failed',
  unmatched: 'dropped',
}

function brokerCounter(counts: () => BrokerCounts, registers: Registry[]) {
  new Counter({
    name: 'ytrag_broker_deliveries_total',
    help: 'The local broker: deliveries by outcome (delivered, retried, dead_lettered, lost, unmatched)',
    labelNames: ['outcome'],
    registers,
    collect() {
      const now = counts()
      this.reset()
      for (const [outcome, key] of Object.entries(BROKER_OUTCOMES)) this.inc({ outcome }, now[key])
    },
  })
}
