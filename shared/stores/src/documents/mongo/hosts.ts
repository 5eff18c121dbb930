// HostThrottleStore over MongoDB: each host's politeness state is a document in `hosts`, shared
// by every replica.
import { type HostState, isoTimestamp, nextHostSlot } from '../channel-sync/index.ts'
import type { HostBackoff, HostSlot, HostThrottleStore } from '../../ports.ts'
import { assertId, type HostDocument, isDuplicateKeyError } from './collections.ts'
import type { MongoConnection } from './connection.ts'

/** Whether a stored host state has one of its fields; a field absent or null is not there. */
function toHostState(doc: HostDocument | null): HostState | undefined {
  if (!doc) return undefined
  const state: HostState = {}
  if (doc.lastSlot != null) state.lastSlot = doc.lastSlot
  if (doc.backoffUntil != null) state.backoffUntil = doc.backoffUntil
  if (doc.backoffReason != null) state.backoffReason = doc.backoffReason
  return state
}

/**
 * Request spacing and backoff per host in MongoDB.
 *
 * @example
 * const hosts = new MongoHostThrottleStore(new MongoConnection({ url, database: 'ytrag' }))
 * const slot = await hosts.reserveHostRequest('www.youtube.com', { now: new Date(), spacingMs: 1000 })
 */
export class MongoHostThrottleStore implements HostThrottleStore {
  readonly #mongo: MongoConnection

  constructor(mongo: MongoConnection) {
    this.#mongo = mongo
  }

  async reserveHostRequest(host: string, { now, spacingMs }: { now: Date; spacingMs: number }): Promise<HostSlot> {
    assertId(host, 'host')
    await this.#mongo.use()
    return this.#updateHost(host, (state) => {
      const { slot, reserve } = nextHostSlot(state, now, spacingMs)
      return { result: slot, set: reserve === undefined ? undefined : { lastSlot: reserve } }
    })
  }

  async backOffHost(host: string, until: Date, reason: string): Promise<void> {
    assertId(host, 'host')
    const backoffUntil = isoTimestamp(until, 'until')
    await this.#mongo.use()
    // An equal or later backoff stays (for the same end, the first reason: a replay changes nothing).
    await this.#updateHost(host, (state) => ({
      result: undefined,
      set:
        state?.backoffUntil !== undefined && state.backoffUntil >= backoffUntil
          ? undefined
          : { backoffUntil, backoffReason: reason },
    }))
  }

  async hostBackoff(host: string, now: Date): Promise<HostBackoff | undefined> {
    assertId(host, 'host')
    await this.#mongo.use()
    const doc = await this.#mongo.hosts.findOne({ host, backoffUntil: { $gt: isoTimestamp(now, 'now') } })
    if (!doc?.backoffUntil) return undefined
    return { until: doc.backoffUntil, ...(doc.backoffReason == null ? {} : { reason: doc.backoffReason }) }
  }

  /**
   * Reads the host's state, decides from it, and writes that decision only if no other caller
   * wrote in between (conditional on `revision`); otherwise reads again. MongoDB has no atomic
   * "max of a stored time plus spacing", so a compare-and-set is how concurrent callers of
   * several replicas each get their own slot.
   */
  async #updateHost<T>(
    host: string,
    decide: (state: HostState | undefined) => { result: T; set: Partial<HostState> | undefined },
  ): Promise<T> {
    const hosts = this.#mongo.hosts
    return this.#mongo.exclusive(`hosts:${host}`, async () => {
      for (;;) {
        const doc = await hosts.findOne({ host })
        const { result, set } = decide(toHostState(doc))
        if (!set) return result
        if (!doc) {
          try {
            await hosts.insertOne({ host, revision: 1, ...set })
            return result
          } catch (error) {
            // Another caller made the host first: decide again from what it wrote.
            if (!isDuplicateKeyError(error)) throw error
            continue
          }
        }
        const { modifiedCount } = await hosts.updateOne(
          { host, revision: doc.revision },
          { $set: set, $inc: { revision: 1 } },
        )
        if (modifiedCount === 1) return result
      }
    })
  }
}
