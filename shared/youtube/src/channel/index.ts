// A channel as the re-sync sees it: its id from whatever URL a user gives, and its newest
// uploads from the feed YouTube serves for every channel (cheap: one small request, no yt-dlp).
import { isYouTubeUrl } from '../deep-link/index.ts'

/** The host answered 429: every request to it should wait. */
export class RateLimitedError extends Error {
  override name = 'RateLimitedError'
  constructor(
    message: string,
    readonly host: string,
    /** From `Retry-After`, when the host said. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message)
  }
}

/** The channel could not be read: not a channel URL, a page without a channel id, a feed that failed. */
export class ChannelError extends Error {
  override name = 'ChannelError'
}

export interface ResolvedChannel {
  channelId: string
  title?: string
  /** What yt-dlp lists for a backfill or when the feed fails. */
  listUrl: string
}

export interface FeedVideo {
  videoId: string
  title: string
  url: string
  publishedAt?: string
}

/** YouTube's channel id: `UC` and 22 more of base64url's characters. */
const CHANNEL_ID = /^UC[\w-]{22}$/
const CHANNEL_PATH = /^\/channel\/(UC[\w-]{22})(?:\/|$)/
const NAMED_PATH = /^\/(?:@[^/]+|c\/[^/]+|user\/[^/]+)(?:\/|$)/

const decodeXml = (value: string) =>
  value
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/&(lt|gt|quot|apos|amp|#\d+|#x[\da-f]+);/gi, (_, entity: string) => {
      const named: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' }
      if (entity.startsWith('#x') || entity.startsWith('#X')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16))
      if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)))
      return named[entity.toLowerCase()] ?? entity
    })

const tag = (xml: string, name: string) => {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml)
  return match ? decodeXml(match[1]!.trim()) : undefined
}

/**
 * The videos of a channel's uploads feed (`/feeds/videos.xml?channel_id=…`), newest first as
 * the feed has them.
 *
 * @example
 * parseChannelFeed(xml) // [{ videoId: 'dQw4w9WgXcQ', title: '…', url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', publishedAt: '2024-…' }]
 */
export function parseChannelFeed(xml: string): FeedVideo[] {
  if (!/<feed[\s>]/.test(xml)) throw new ChannelError('the channel feed is not an Atom feed')
  return xml.split(/<entry[\s>]/).slice(1).flatMap((entry) => {
    const videoId = tag(entry, 'yt:videoId')
    const url = /<link[^>]*rel="alternate"[^>]*href="([^"]+)"/.exec(entry)?.[1]
    if (!videoId || !url) return []
    const publishedAt = tag(entry, 'published')
    return [{ videoId, title: tag(entry, 'title') ?? '', url: decodeXml(url), ...(publishedAt ? { publishedAt } : {}) }]
  })
}

/**
 * Where a channel's uploads feed is; `base` is `https://www.youtube.com` unless configured (tests).
 *
 * @example
 * channelFeedUrl('https://www.youtube.com', 'UCxyz') // 'https://www.youtube.com/feeds/videos.xml?channel_id=UCxyz'
 */
export const channelFeedUrl = (base: string, channelId: string) => `${base.replace(/\/$/, '')}/feeds/videos.xml?channel_id=${encodeURIComponent(channelId)}`

/** Seconds from a `Retry-After` header (seconds or an HTTP date), if it has one. */
function retryAfter(response: Response): number | undefined {
  const value = response.headers.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000)
}

/** One GET, reporting 429 as RateLimitedError and any other failure as ChannelError. */
async function get(url: string, what: string, timeoutMs: number): Promise<string> {
  let response: Response
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { 'accept-language': 'en' } })
  } catch (error) {
    throw new ChannelError(`could not fetch ${what} at ${url}: ${(error as Error).message}`)
  }
  if (response.status === 429) {
    const seconds = retryAfter(response)
    throw new RateLimitedError(`${new URL(url).host} answered 429 Too Many Requests for ${what}`, new URL(url).host, seconds)
  }
  if (!response.ok) throw new ChannelError(`${what} at ${url} answered HTTP ${response.status}`)
  return response.text()
}

/**
 * The newest uploads of a channel from its feed (YouTube lists 15).
 *
 * @example
 * const videos = await fetchChannelFeed(channelFeedUrl(config.channels.feedBaseUrl, channelId))
 */
export async function fetchChannelFeed(url: string, { timeoutMs = 15_000 } = {}): Promise<FeedVideo[]> {
  return parseChannelFeed(await get(url, 'the channel feed', timeoutMs))
}

/**
 * The channel a URL names, in any of YouTube's forms: `/channel/UC…` directly; `/@handle`,
 * `/c/…` and `/user/…` by reading the channel id from the page. Another (allowed) host's page
 * names its channel the same way YouTube's pages do: `<meta itemprop="channelId">` or a
 * canonical `/channel/…` link. What the page names must have the form of a YouTube channel id
 * (`UC` and 22 more characters); anything else is a ChannelError.
 *
 * @example
 * await resolveChannel('https://www.youtube.com/@LinusTechTips') // { channelId: 'UCXuqSBlHAE6Xw-yeJA0Tunw', title: '…', listUrl: '…/channel/UCXu…/videos' }
 */
export async function resolveChannel(url: string, { timeoutMs = 15_000 } = {}): Promise<ResolvedChannel> {
  const parsed = new URL(url)
  const youtube = isYouTubeUrl(url)
  const listUrlFor = (channelId: string) => (youtube ? `https://www.youtube.com/channel/${channelId}/videos` : url)
  const direct = CHANNEL_PATH.exec(parsed.pathname)?.[1]
  if (youtube && direct) return { channelId: direct, listUrl: listUrlFor(direct) }
  if (youtube && !NAMED_PATH.test(parsed.pathname)) {
    throw new ChannelError(`${url} is not a channel URL (expected /channel/UC…, /@handle, /c/… or /user/…)`)
  }
  const html = await get(url, 'the channel page', timeoutMs)
  const found =
    /<meta[^>]+itemprop="(?:channelId|identifier)"[^>]+content="([^"]+)"/.exec(html)?.[1] ??
    /<link[^>]+rel="canonical"[^>]+href="[^"]*\/channel\/([^"/?]+)"/.exec(html)?.[1] ??
    /"(?:externalId|channelId)":"(UC[\w-]{22})"/.exec(html)?.[1]
  if (!found) throw new ChannelError(`the page at ${url} names no channel`)
  const channelId = decodeXml(found)
  // A video's page names the video in the same `identifier` meta a channel's page names the
  // channel in: taking whatever is there would subscribe to a video, so only a channel id's form is.
  if (!CHANNEL_ID.test(channelId)) {
    throw new ChannelError(`the page at ${url} names ${JSON.stringify(channelId)}, which is not a YouTube channel id (UC and 22 more characters)`)
  }
  const title = /<meta[^>]+property="og:title"[^>]+content="([^"]*)"/.exec(html)?.[1] ?? /<title>([^<]*)<\/title>/.exec(html)?.[1]
  return { channelId, ...(title ? { title: decodeXml(title.trim()) } : {}), listUrl: listUrlFor(channelId) }
}

export interface NextSyncOptions {
  intervalSeconds: number
  /** Up to this share of the interval early or late. */
  jitterRatio: number
  /** Failed syncs in a row: each doubles the wait. */
  failures?: number
  maxBackoffSeconds?: number
  /** Default Math.random. */
  random?: () => number
}

/**
 * When a channel next syncs: an interval from `from`, doubled per failure in a row (capped), and
 * shifted by a random jitter so that channels subscribed together do not all fire together.
 *
 * @example
 * nextSyncTime(new Date(), { intervalSeconds: 3600, jitterRatio: 0.1 }) // in 54 to 66 minutes
 */
export function nextSyncTime(from: Date, { intervalSeconds, jitterRatio, failures = 0, maxBackoffSeconds = Number.POSITIVE_INFINITY, random = Math.random }: NextSyncOptions): Date {
  const base = Math.min(intervalSeconds * 2 ** failures, Math.max(intervalSeconds, maxBackoffSeconds))
  const jitter = base * jitterRatio * (random() * 2 - 1)
  return new Date(from.getTime() + (base + jitter) * 1000)
}
