import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import type { FunctionMetrics } from '../metrics/index.ts'
import type { FunctionTracer } from '../tracing/index.ts'

/**
 * What runs on behalf of one request or one event: whose metrics what it does is counted on
 * (several functions share a process in local mode), and the W3C trace it belongs to, which
 * every event it emits carries on, with the tracer its child spans (yt-dlp runs, model calls) go to.
 */
export interface Scope {
  metrics: FunctionMetrics
  /** The W3C `traceparent` of the work in progress (its span's): events emitted now carry it. */
  traceparent: string
  tracer: FunctionTracer
}

const scopes = new AsyncLocalStorage<Scope>()

/** The scope of the request or event being handled, if any. */
export const currentScope = () => scopes.getStore()

/** Runs `work` in `scope`: what it awaits, and what that starts, sees it. */
export const runInScope = <T>(scope: Scope, work: () => T): T => scopes.run(scope, work)

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The trace id of a W3C `traceparent`, or undefined for one that is malformed. */
export const traceIdOf = (traceparent: string | undefined) =>
  traceparent ? TRACEPARENT.exec(traceparent)?.[1] : undefined

/**
 * A `traceparent` for new work: a child of `parent` (same trace, new span id) when it is a
 * valid one, else the start of a new trace (sampled).
 */
export function childTraceparent(parent?: string): string {
  const match = parent ? TRACEPARENT.exec(parent) : null
  const traceId = match && !/^0+$/.test(match[1]!) ? match[1]! : randomBytes(16).toString('hex')
  return `00-${traceId}-${randomBytes(8).toString('hex')}-${match?.[3] ?? '01'}`
}
