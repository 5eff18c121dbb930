// What the broker's tests hand it as subscribers and logger, and read its deliveries back with.
import { HTTP, type CloudEvent } from 'cloudevents'
import type { BrokerLogger } from '../src/local-broker/index.ts'

export interface Delivery {
  service: string
  url: string
  headers: Headers
  event: CloudEvent<unknown>
  at: number
}

/** Reads a delivered Request back into an event with the SDK, as a function would. */
export async function toEvent(request: Request): Promise<CloudEvent<unknown>> {
  const headers: Record<string, string> = {}
  request.headers.forEach((value, key) => {
    headers[key] = value
  })
  const parsed = HTTP.toEvent({ headers, body: await request.text() })
  return (Array.isArray(parsed) ? parsed[0] : parsed) as CloudEvent<unknown>
}

/**
 * A `deliver` that records each delivery and answers with `respond` (default 204); `respond`
 * gets the delivery and its index among those to the same service.
 *
 * @example
 * ```ts
 * const { to, deliver } = recorder((d, n) => new Response(null, { status: n < 2 ? 503 : 200 }))
 * ```
 */
export function recorder(
  respond: (delivery: Delivery, index: number) => Response | Promise<Response> = () =>
    new Response(null, { status: 204 }),
) {
  const deliveries: Delivery[] = []
  const deliver = async (service: string, request: Request) => {
    const delivery = {
      service,
      url: request.url,
      headers: request.headers,
      event: await toEvent(request),
      at: performance.now(),
    }
    deliveries.push(delivery)
    return respond(delivery, deliveries.filter((d) => d.service === service).length - 1)
  }
  const to = (service: string) => deliveries.filter((d) => d.service === service)
  return { deliveries, deliver, to }
}

/** A logger that keeps its lines for assertions. */
export function captureLogger() {
  const lines: Array<{ level: string; obj: object; msg: string }> = []
  const logger: BrokerLogger = {
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
  }
  return { lines, logger }
}
