import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'

/**
 * A function's Prometheus metrics in a registry of its own (several functions share one
 * process in local mode, and each `/metrics` shows only its own).
 *
 * @example
 * ```ts
 * const metrics = functionMetrics('indexer')
 * const done = metrics.startEventTimer('io.youtube-rag.transcript.ready.v1')
 * done('ok')
 * ```
 */
export function functionMetrics(name: string) {
  const registry = new Registry()
  registry.setDefaultLabels({ function: name })
  // Node's default metrics (GC observer, event-loop monitor, /proc readers) cost a cold start
  // ~10 ms before its first readiness answer; they start at the first scrape instead, which is
  // when anyone first reads them (the GC and event-loop histograms count from then on).
  let defaultsRegistered = false
  const events = new Counter({
    name: 'ytrag_events_total',
    help: 'CloudEvents received, by type and outcome (ok, invalid, malformed, error)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  })
  const eventSeconds = new Histogram({
    name: 'ytrag_event_duration_seconds',
    help: 'Time spent handling one CloudEvent',
    labelNames: ['type', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  })
  const http = new Histogram({
    name: 'ytrag_http_request_duration_seconds',
    help: 'HTTP requests served, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.02, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  })
  const ownCounters = new Map<string, Counter>()
  return {
    registry,
    /** The exposition text for a scrape of /metrics (Node's default metrics registered at the first). */
    async scrape(): Promise<string> {
      if (!defaultsRegistered) {
        defaultsRegistered = true
        collectDefaultMetrics({ register: registry })
      }
      return registry.metrics()
    },
    /** Adds to a counter of the function's own (made on first use), e.g. seconds of audio transcribed. */
    count(counterName: string, help: string, value = 1) {
      let counter = ownCounters.get(counterName)
      if (!counter) ownCounters.set(counterName, (counter = new Counter({ name: counterName, help, registers: [registry] })))
      counter.inc(value)
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
  }
}
