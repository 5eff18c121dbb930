// What the adapters share about channel subscriptions and host politeness: a new subscription
// as stored, which options an upsert changes, and where a host's next request goes. Every
// adapter stores and compares with these, so SQLite and MongoDB behave alike.
import type { Channel, ChannelDefaults, HostSlot, NewChannel } from '../../ports.ts'

/** The options an upsert may change; everything else of a Channel is its sync state. */
export type ChannelOptions = Pick<
  Channel,
  'url' | 'listUrl' | 'title' | 'languages' | 'speechToText' | 'backfill' | 'intervalSeconds'
>

/**
 * An ISO 8601 timestamp in `toISOString()` form. The stores compare timestamps as strings
 * (nextSyncAt ≤ now, a later backoff), which only works when every one has the same form.
 */
export function isoTimestamp(value: string | Date, name: string): string {
  const time = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN
  if (Number.isNaN(time)) throw new RangeError(`${name} must be a valid date, got ${String(value)}`)
  return new Date(time).toISOString()
}

/** Options as a caller gives them: any may be absent or undefined. */
type Given<T> = { [K in keyof T]?: T[K] | undefined }

/** Throws on an interval or a backfill no sync could run with; `where` names them in the message. */
function checkOptions({ intervalSeconds, backfill }: Given<ChannelDefaults>, where: string): void {
  if (intervalSeconds !== undefined && !(Number.isFinite(intervalSeconds) && intervalSeconds > 0)) {
    throw new RangeError(`${where}intervalSeconds must be positive, got ${intervalSeconds}`)
  }
  if (backfill !== undefined && backfill !== 'all' && !(Number.isInteger(backfill) && backfill >= 0)) {
    throw new RangeError(`${where}backfill must be a non-negative integer or 'all', got ${String(backfill)}`)
  }
}

/** The options the caller gave (absent ones stay undefined), checked. */
function givenOptions(channel: NewChannel): Given<ChannelOptions> & Pick<ChannelOptions, 'url' | 'listUrl'> {
  const { url, listUrl, title, languages, speechToText, backfill, intervalSeconds } = channel
  if (typeof channel.channelId !== 'string' || channel.channelId === '')
    throw new TypeError('channelId must be a non-empty string')
  checkOptions({ intervalSeconds, backfill }, '')
  return {
    url,
    listUrl,
    title,
    languages: languages ? [...languages] : undefined,
    speechToText,
    backfill,
    intervalSeconds,
  }
}

/** A new subscription as stored: the options given, the defaults for the rest, and a sync state that has not synced. */
export function newChannel(channel: NewChannel, at: string): Channel {
  const options = givenOptions(channel)
  const { defaults } = channel
  checkOptions(defaults, 'defaults.')
  const created: Channel = {
    channelId: channel.channelId,
    url: options.url,
    listUrl: options.listUrl,
    languages: [...(options.languages ?? defaults.languages)],
    speechToText: options.speechToText ?? defaults.speechToText,
    backfill: options.backfill ?? defaults.backfill,
    intervalSeconds: options.intervalSeconds ?? defaults.intervalSeconds,
    nextSyncAt: isoTimestamp(channel.nextSyncAt, 'nextSyncAt'),
    consecutiveFailures: 0,
    createdAt: at,
    updatedAt: at,
  }
  if (options.title !== undefined) created.title = options.title
  return created
}

/**
 * The options an upsert of an existing subscription changes, or undefined when it changes none
 * (a replayed subscribe then leaves updatedAt alone). An option the caller left out keeps its
 * stored value (the defaults are for a new subscription only); nextSyncAt and the rest of the
 * sync state are never touched.
 */
export function changedChannelOptions(existing: Channel, channel: NewChannel): Partial<ChannelOptions> | undefined {
  const changes: Partial<ChannelOptions> = {}
  for (const [field, value] of Object.entries(givenOptions(channel)) as [keyof ChannelOptions, unknown][]) {
    if (value === undefined) continue
    if (JSON.stringify(value) !== JSON.stringify(existing[field])) Object.assign(changes, { [field]: value })
  }
  return Object.keys(changes).length ? changes : undefined
}

/** What a store keeps per host. */
export interface HostState {
  /** The latest reservation handed out. */
  lastSlot?: string | undefined
  backoffUntil?: string | undefined
  backoffReason?: string | undefined
}

/**
 * Where a host's next request goes: during a backoff nowhere (the slot says until when, and
 * `reserve` is undefined); otherwise `spacingMs` after the last reservation and not before now,
 * with `reserve` the new lastSlot to store.
 */
export function nextHostSlot(
  state: HostState | undefined,
  now: Date,
  spacingMs: number,
): { slot: HostSlot; reserve?: string } {
  if (!Number.isFinite(spacingMs) || spacingMs < 0)
    throw new RangeError(`spacingMs must be a non-negative number, got ${spacingMs}`)
  const nowIso = isoTimestamp(now, 'now')
  if (state?.backoffUntil !== undefined && state.backoffUntil > nowIso) {
    const slot: HostSlot = { at: state.backoffUntil, backoffUntil: state.backoffUntil }
    if (state.backoffReason !== undefined) slot.backoffReason = state.backoffReason
    return { slot }
  }
  const after = state?.lastSlot === undefined ? Number.NEGATIVE_INFINITY : Date.parse(state.lastSlot) + spacingMs
  const at = new Date(Math.max(now.getTime(), after)).toISOString()
  return { slot: { at }, reserve: at }
}
