// ChannelStore over MongoDB: a subscription is a document in `channels`. A write that depends on
// what was read (a claimed channel) is conditional on what was read, so of concurrent writers
// only one matches.
import type { UpdateFilter } from 'mongodb'
import { changedChannelOptions, isoTimestamp, newChannel } from '../channel-sync/index.ts'
import { assertLimit } from '../../limit/index.ts'
import type { Channel, ChannelStore, ChannelSyncOutcome, ChannelSyncResult, NewChannel } from '../../ports.ts'
import { assertId, type ChannelDocument, isDuplicateKeyError } from './collections.ts'
import type { MongoConnection } from './connection.ts'

/** Maps a stored subscription to a Channel: no `_id`, absent or null optional fields left out. */
function toChannel(doc: ChannelDocument): Channel {
  const channel: Channel = {
    channelId: doc.channelId,
    url: doc.url,
    listUrl: doc.listUrl,
    languages: doc.languages ?? [],
    speechToText: doc.speechToText === true,
    backfill: doc.backfill,
    intervalSeconds: doc.intervalSeconds,
    nextSyncAt: doc.nextSyncAt,
    consecutiveFailures: doc.consecutiveFailures ?? 0,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  }
  if (doc.title != null) channel.title = doc.title
  if (doc.lastSyncAt != null) channel.lastSyncAt = doc.lastSyncAt
  if (doc.lastOutcome != null) channel.lastOutcome = doc.lastOutcome
  if (doc.lastError != null) channel.lastError = doc.lastError
  if (doc.videosFoundLastSync != null) channel.videosFoundLastSync = doc.videosFoundLastSync
  return channel
}

/**
 * Channel subscriptions in MongoDB.
 *
 * @example
 * const channels = new MongoChannelStore(new MongoConnection({ url, database: 'ytrag' }))
 * const due = await channels.claimDueChannels(now, leaseUntil, 10)
 */
export class MongoChannelStore implements ChannelStore {
  readonly #mongo: MongoConnection

  constructor(mongo: MongoConnection) {
    this.#mongo = mongo
  }

  async upsertChannel(channel: NewChannel): Promise<{ created: boolean; channel: Channel }> {
    assertId(channel.channelId, 'channelId')
    const dialect = await this.#mongo.use()
    const { channelId } = channel
    const fresh = newChannel(channel, this.#mongo.timestamp())
    return this.#mongo.exclusive(`channels:${channelId}`, async () => {
      for (;;) {
        const existing = await this.#mongo.channels.findOne({ channelId })
        if (!existing) {
          try {
            // A copy: the driver adds `_id` to what it inserts.
            await this.#mongo.channels.insertOne({ ...fresh })
            return { created: true, channel: fresh }
          } catch (error) {
            // A concurrent subscribe won the unique index: update the one it made instead.
            if (!isDuplicateKeyError(error)) throw error
            continue
          }
        }
        // Only the options given and different are written, so a replayed subscribe changes nothing.
        const changes = changedChannelOptions(toChannel(existing), channel)
        if (!changes) return { created: false, channel: toChannel(existing) }
        // $set of the options given only: the sync state a concurrent sync records stays.
        const updated = await dialect.findOneAndUpdate(
          this.#mongo.channels,
          { channelId },
          { $set: { ...changes, updatedAt: fresh.updatedAt } },
        )
        // Deleted in between: subscribe it again.
        if (updated) return { created: false, channel: toChannel(updated) }
      }
    })
  }

  async getChannel(channelId: string): Promise<Channel | undefined> {
    assertId(channelId, 'channelId')
    await this.#mongo.use()
    const doc = await this.#mongo.channels.findOne({ channelId })
    return doc ? toChannel(doc) : undefined
  }

  async listChannels(): Promise<Channel[]> {
    await this.#mongo.use()
    // _id (an ObjectId, increasing) breaks ties in the order they were inserted, like SQLite's rowid.
    return (await this.#mongo.channels.find({}).sort({ createdAt: 1, _id: 1 }).toArray()).map(toChannel)
  }

  async deleteChannel(channelId: string): Promise<boolean> {
    assertId(channelId, 'channelId')
    await this.#mongo.use()
    const { deletedCount } = await this.#mongo.exclusive(`channels:${channelId}`, () =>
      this.#mongo.channels.deleteOne({ channelId }),
    )
    return deletedCount > 0
  }

  async claimDueChannels(now: Date, leaseUntil: Date, limit: number): Promise<Channel[]> {
    assertLimit(limit)
    const nowIso = isoTimestamp(now, 'now')
    const lease = isoTimestamp(leaseUntil, 'leaseUntil')
    const dialect = await this.#mongo.use()
    const claimed: Channel[] = []
    // Every channel looked at once: one a concurrent caller took is not looked for again.
    const seen: string[] = []
    while (claimed.length < limit) {
      const due = await this.#mongo.channels
        .find({ nextSyncAt: { $lte: nowIso }, channelId: { $nin: seen } })
        .sort({ nextSyncAt: 1, channelId: 1 })
        .limit(limit - claimed.length)
        .toArray()
      if (due.length === 0) break
      for (const { channelId, nextSyncAt } of due) {
        seen.push(channelId)
        // Conditional on the nextSyncAt read: of concurrent callers, only the first still finds it.
        const taken = await this.#mongo.exclusive(`channels:${channelId}`, () =>
          dialect.findOneAndUpdate(
            this.#mongo.channels,
            { channelId, nextSyncAt },
            { $set: { nextSyncAt: lease, updatedAt: nowIso } },
          ),
        )
        if (taken) claimed.push(toChannel(taken))
      }
    }
    return claimed
  }

  async releaseChannelClaim(channelId: string, leaseUntil: Date, nextSyncAt: Date): Promise<boolean> {
    assertId(channelId, 'channelId')
    await this.#mongo.use()
    const filter = { channelId, nextSyncAt: isoTimestamp(leaseUntil, 'leaseUntil') }
    const change = {
      $set: { nextSyncAt: isoTimestamp(nextSyncAt, 'nextSyncAt'), updatedAt: this.#mongo.timestamp() },
    }
    const result = await this.#mongo.exclusive(`channels:${channelId}`, () =>
      this.#mongo.channels.updateOne(filter, change),
    )
    return result.modifiedCount === 1
  }

  async recordChannelSync(channelId: string, result: ChannelSyncResult): Promise<Channel | undefined> {
    assertId(channelId, 'channelId')
    const outcomes: ChannelSyncOutcome[] = ['ok', 'failed', 'rate-limited']
    if (!outcomes.includes(result.outcome))
      throw new RangeError(`Unknown sync outcome ${JSON.stringify(result.outcome)}`)
    const dialect = await this.#mongo.use()
    const set: Record<string, unknown> = {
      lastSyncAt: isoTimestamp(result.at, 'at'),
      lastOutcome: result.outcome,
      nextSyncAt: isoTimestamp(result.nextSyncAt, 'nextSyncAt'),
      updatedAt: this.#mongo.timestamp(),
    }
    if (result.outcome === 'ok') set.consecutiveFailures = 0
    if (result.videosFound !== undefined) set.videosFoundLastSync = result.videosFound
    if (result.error !== undefined) set.lastError = result.error
    // One update: $inc counts on the stored value, so two records never lose one.
    const change: UpdateFilter<ChannelDocument> = { $set: set }
    if (result.outcome === 'failed') change.$inc = { consecutiveFailures: 1 }
    if (result.error === undefined) change.$unset = { lastError: '' }
    const doc = await this.#mongo.exclusive(`channels:${channelId}`, () =>
      dialect.findOneAndUpdate(this.#mongo.channels, { channelId }, change),
    )
    return doc ? toChannel(doc) : undefined
  }
}
