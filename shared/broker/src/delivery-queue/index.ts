// Where the local broker keeps the deliveries it owes: in memory (tests, embedding) or in a SQLite
// file, so that a process killed mid-ingest leaves them behind for the next one to deliver.
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { CloudEvent } from 'cloudevents'
import { closeDatabase, openDatabase, transaction } from '@ytrag/stores/sqlite'

/** A delivery the broker is about to queue: one event for one Trigger. */
export interface NewDelivery {
  /** The Trigger's name (`metadata.name`), which gives the subscriber and the delivery spec. */
  trigger: string
  event: CloudEvent<unknown>
}

/**
 * Where a queued delivery goes next: its Trigger's subscriber, or, once that failed for good,
 * the dead-letter sink (then `event` already carries Knative's `knativeerror*` attributes).
 */
export type DeliveryStage = 'subscriber' | 'dead-letter'

/** A delivery as the queue holds it. */
export interface QueuedDelivery extends NewDelivery {
  /** The queue's key for this delivery; it grows with each one queued, so it is also their order. */
  seq: number
  /** Failed attempts so far: a restart does not give a delivery its retries back. */
  attempts: number
  /** When the next attempt may start, in ms since the epoch; 0 for at once. */
  nextAttemptAt: number
  stage: DeliveryStage
}

/**
 * The broker's pending deliveries. A delivery is identified by (Trigger, event source, event id),
 * as CloudEvents makes (source, id) unique: queuing one that is already there does nothing, so an
 * event emitted twice with the same id is delivered once while the first is pending.
 * Every method is synchronous and atomic, so the broker's bookkeeping never interleaves with another
 * delivery's.
 */
export interface DeliveryQueue {
  /** Queues deliveries all at once; returns those that were not already queued. */
  add(deliveries: readonly NewDelivery[]): QueuedDelivery[]
  /** Removes a delivery its subscriber took, and queues the events it replied with, all at once. */
  complete(seq: number, replies: readonly NewDelivery[]): QueuedDelivery[]
  /** Records a failed attempt and when to try again. */
  retryLater(seq: number, attempts: number, nextAttemptAt: number): void
  /** Records that the delivery failed for good: what is left is handing `event` to the dead-letter sink. */
  toDeadLetter(seq: number, event: CloudEvent<unknown>): void
  /** Removes a delivery that is over: dead-lettered, or lost for good. */
  remove(seq: number): void
  /** Every queued delivery, oldest first: at start, what a previous process left. */
  list(): QueuedDelivery[]
  close(): void
}

const keyOf = ({ trigger, event }: NewDelivery) => JSON.stringify([trigger, event.source, event.id])

/**
 * A queue that lives as long as the process: nothing survives a restart.
 *
 * @example
 * ```ts
 * const broker = createLocalBroker({ wiring, deliver, queue: new MemoryDeliveryQueue() }) // the default
 * ```
 */
export class MemoryDeliveryQueue implements DeliveryQueue {
  readonly #deliveries = new Map<number, QueuedDelivery>()
  readonly #keys = new Set<string>()
  #lastSeq = 0

  add(deliveries: readonly NewDelivery[]): QueuedDelivery[] {
    const added: QueuedDelivery[] = []
    for (const delivery of deliveries) {
      const key = keyOf(delivery)
      if (this.#keys.has(key)) continue
      this.#keys.add(key)
      const queued: QueuedDelivery = {
        trigger: delivery.trigger,
        event: delivery.event,
        seq: ++this.#lastSeq,
        attempts: 0,
        nextAttemptAt: 0,
        stage: 'subscriber',
      }
      this.#deliveries.set(queued.seq, queued)
      added.push({ ...queued })
    }
    return added
  }

  complete(seq: number, replies: readonly NewDelivery[]): QueuedDelivery[] {
    this.remove(seq)
    return this.add(replies)
  }

  retryLater(seq: number, attempts: number, nextAttemptAt: number): void {
    const queued = this.#deliveries.get(seq)
    if (queued) Object.assign(queued, { attempts, nextAttemptAt })
  }

  toDeadLetter(seq: number, event: CloudEvent<unknown>): void {
    const queued = this.#deliveries.get(seq)
    if (queued) Object.assign(queued, { event, stage: 'dead-letter' })
  }

  remove(seq: number): void {
    const queued = this.#deliveries.get(seq)
    if (!queued) return
    this.#deliveries.delete(seq)
    // The key of the delivery as it was queued: a dead-letter event keeps the original's id and source.
    this.#keys.delete(keyOf(queued))
  }

  list(): QueuedDelivery[] {
    return [...this.#deliveries.values()].map((queued) => ({ ...queued }))
  }

  close(): void {}
}

export interface SqliteDeliveryQueueOptions {
  /** The database file (its directory is created), e.g. `<storage.dir>/broker.sqlite`. */
  path: string
  /** How long a write waits for another connection's lock. Default 5000 ms. */
  busyTimeoutMs?: number
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (
  -- AUTOINCREMENT: a seq is never reused, so it is both a delivery's key and the order of acceptance.
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  trigger_name    TEXT NOT NULL,
  event_source    TEXT NOT NULL,
  event_id        TEXT NOT NULL,
  -- The CloudEvents JSON format, every attribute and extension included.
  event           TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  stage           TEXT NOT NULL DEFAULT 'subscriber' CHECK (stage IN ('subscriber', 'dead-letter')),
  UNIQUE (trigger_name, event_source, event_id)
) STRICT;
`

interface DeliveryRow {
  seq: number
  trigger_name: string
  event: string
  attempts: number
  next_attempt_at: number
  stage: DeliveryStage
}

/**
 * A queue in a SQLite file: a delivery is on disk once `add` returns, and stays there until it is
 * over, so a process killed at any point leaves every unfinished delivery to the next one.
 *
 * @example
 * ```ts
 * const queue = new SqliteDeliveryQueue({ path: join(config.storage.dir, 'broker.sqlite') })
 * const broker = createLocalBroker({ wiring, deliver, queue }) // delivers what the last process left
 * ```
 */
export class SqliteDeliveryQueue implements DeliveryQueue {
  readonly #db: DatabaseSync
  readonly #insert: StatementSync
  readonly #delete: StatementSync
  readonly #retry: StatementSync
  readonly #deadLetter: StatementSync
  readonly #list: StatementSync

  constructor({ path, busyTimeoutMs }: SqliteDeliveryQueueOptions) {
    this.#db = openDatabase({ path, ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }) })
    try {
      this.#db.exec(SCHEMA)
      this.#insert = this.#db.prepare(
        `INSERT INTO deliveries (trigger_name, event_source, event_id, event) VALUES (?, ?, ?, ?)
         ON CONFLICT (trigger_name, event_source, event_id) DO NOTHING`,
      )
      this.#delete = this.#db.prepare('DELETE FROM deliveries WHERE seq = ?')
      this.#retry = this.#db.prepare('UPDATE deliveries SET attempts = ?, next_attempt_at = ? WHERE seq = ?')
      this.#deadLetter = this.#db.prepare(`UPDATE deliveries SET event = ?, stage = 'dead-letter' WHERE seq = ?`)
      this.#list = this.#db.prepare(
        'SELECT seq, trigger_name, event, attempts, next_attempt_at, stage FROM deliveries ORDER BY seq',
      )
    } catch (error) {
      closeDatabase(this.#db)
      throw error
    }
  }

  add(deliveries: readonly NewDelivery[]): QueuedDelivery[] {
    if (deliveries.length === 0) return []
    return transaction(this.#db, () => this.#insertAll(deliveries))
  }

  complete(seq: number, replies: readonly NewDelivery[]): QueuedDelivery[] {
    return transaction(this.#db, () => {
      this.#delete.run(seq)
      return this.#insertAll(replies)
    })
  }

  retryLater(seq: number, attempts: number, nextAttemptAt: number): void {
    this.#retry.run(attempts, Math.round(nextAttemptAt), seq)
  }

  toDeadLetter(seq: number, event: CloudEvent<unknown>): void {
    this.#deadLetter.run(serialize(event), seq)
  }

  remove(seq: number): void {
    this.#delete.run(seq)
  }

  list(): QueuedDelivery[] {
    return (this.#list.all() as unknown as DeliveryRow[]).map((row) => ({
      seq: row.seq,
      trigger: row.trigger_name,
      event: deserialize(row.event, row.seq),
      attempts: row.attempts,
      nextAttemptAt: row.next_attempt_at,
      stage: row.stage,
    }))
  }

  close(): void {
    closeDatabase(this.#db)
  }

  #insertAll(deliveries: readonly NewDelivery[]): QueuedDelivery[] {
    const added: QueuedDelivery[] = []
    for (const delivery of deliveries) {
      const { event } = delivery
      const { changes, lastInsertRowid } = this.#insert.run(delivery.trigger, event.source, event.id, serialize(event))
      // No change: the same event is already queued for this Trigger.
      if (changes === 0) continue
      added.push({
        trigger: delivery.trigger,
        event,
        seq: Number(lastInsertRowid),
        attempts: 0,
        nextAttemptAt: 0,
        stage: 'subscriber',
      })
    }
    return added
  }
}

/** The SDK's CloudEvents JSON format (binary data as `data_base64`). */
const serialize = (event: CloudEvent<unknown>) => JSON.stringify(event)

function deserialize(text: string, seq: number): CloudEvent<unknown> {
  try {
    // Not strict: the event was accepted as it is, and is delivered as it is.
    return new CloudEvent<unknown>(JSON.parse(text) as Record<string, unknown>, false)
  } catch (error) {
    throw new Error(
      `the broker's queue holds an unreadable event (seq ${seq}): ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}
