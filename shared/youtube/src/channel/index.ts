// A channel as the re-sync sees it: its id from whatever URL a user gives, and its newest
// uploads from the feed YouTube serves for every channel (cheap: one small request, no yt-dlp).
// Both are fetched through guardedFetch and read with a parser, never a backtracking pattern.
import { isYouTubeUrl } from '../youtube-url/index.ts'
import {
  guardedFetch,
  GuardedFetchError,
  type GuardedFetchErrorCode,
  type GuardedFetchOptions,
} from '../egress/fetch.ts'

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
  constructor(
    message: string,
    /** Set when the fetch itself failed: `timeout` (the API's 504), a refused hop, a page too large… */
    readonly fetchCode?: GuardedFetchErrorCode,
  ) {
    super(message)
  }
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

/** How channel pages and feeds are fetched: the egress rule's allow-list, and the bounds. */
export type ChannelFetchOptions = Pick<
  GuardedFetchOptions,
  'allowedHosts' | 'resolve' | 'allowListName' | 'timeoutMs' | 'maxBytes' | 'maxRedirects'
>

/**
 * Channel fetch options from the configuration: the same allow-list as yt-dlp's (ingest hosts
 * plus fetch-only hosts), the page size cap, the timeout and the redirect limit.
 *
 * @example
 * await resolveChannel(url, channelFetchOptionsFrom(config))
 */
export function channelFetchOptionsFrom(config: {
  ingest: {
    allowedHosts: readonly string[]
    fetchHosts: readonly string[]
    pageMaxBytes: number
    fetchTimeoutSeconds: number
    maxRedirects: number
  }
}): ChannelFetchOptions {
  const { ingest } = config
  return {
    allowedHosts: [...ingest.allowedHosts, ...ingest.fetchHosts],
    maxBytes: ingest.pageMaxBytes,
    timeoutMs: ingest.fetchTimeoutSeconds * 1000,
    maxRedirects: ingest.maxRedirects,
  }
}

/** YouTube's channel id: `UC` and 22 more of base64url's characters. */
const CHANNEL_ID = /^UC[\w-]{22}$/
const CHANNEL_PATH = /^\/channel\/(UC[\w-]{22})(?:\/|$)/
const NAMED_PATH = /^\/(?:@[^/]+|c\/[^/]+|user\/[^/]+)(?:\/|$)/
// Linear: fixed text around a bounded class, no nested or adjacent unbounded repeats.
const SCRIPT_CHANNEL_ID = /"(?:externalId|channelId)":"(UC[\w-]{22})"/

/**
 * The HTML/XML parser, loaded when a page or feed is first read: its entity tables cost a start
 * ~10 ms of CPU, and only a channel subscription or re-sync reads a page.
 */
const htmlParser = () => import('htmlparser2')

/**
 * The videos of a channel's uploads feed (`/feeds/videos.xml?channel_id=…`), newest first as
 * the feed has them. Read with an XML parser in one pass (time linear in the feed's size).
 *
 * @example
 * await parseChannelFeed(xml) // [{ videoId: 'dQw4w9WgXcQ', title: '…', url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', publishedAt: '2024-…' }]
 */
export async function parseChannelFeed(xml: string): Promise<FeedVideo[]> {
  const { Parser } = await htmlParser()
  let isFeed = false
  const videos: FeedVideo[] = []
  let entry: { videoId: string; title: string; url: string | undefined; published: string } | undefined
  let field: 'videoId' | 'title' | 'published' | undefined
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'feed') isFeed = true
        else if (name === 'entry') entry = { videoId: '', title: '', url: undefined, published: '' }
        else if (entry && name === 'yt:videoId') field = 'videoId'
        else if (entry && name === 'title') field = 'title'
        else if (entry && name === 'published') field = 'published'
        else if (entry && name === 'link' && attributes.rel === 'alternate' && attributes.href && !entry.url)
          entry.url = attributes.href
      },
      ontext(text) {
        if (entry && field) entry[field] += text
      },
      onclosetag(name) {
        if (name === 'entry' && entry) {
          const videoId = entry.videoId.trim()
          const published = entry.published.trim()
          if (videoId && entry.url)
            videos.push({
              videoId,
              title: entry.title.trim(),
              url: entry.url,
              ...(published ? { publishedAt: published } : {}),
            })
          entry = undefined
        }
        field = undefined
      },
    },
    { xmlMode: true, decodeEntities: true },
  )
  parser.end(xml)
  if (!isFeed) throw new ChannelError('the channel feed is not an Atom feed')
  return videos
}

/**
 * What a channel page says about its channel: the id from `<meta itemprop="channelId|identifier">`,
 * a canonical `/channel/…` link, or YouTube's embedded JSON; the title from `og:title` or
 * `<title>`. An HTML parser reads it in one pass, so a hostile page costs time linear in its size.
 *
 * @example
 * await readChannelPage('<meta itemprop="channelId" content="UC…"><title>Talks</title>') // { found: 'UC…', title: 'Talks' }
 */
export async function readChannelPage(html: string): Promise<{ found?: string; title?: string }> {
  const { Parser } = await htmlParser()
  let meta: string | undefined
  let canonical: string | undefined
  let ogTitle: string | undefined
  let title: string | undefined
  let inTitle = false
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'meta') {
          const itemprop = attributes.itemprop
          if (
            meta === undefined &&
            (itemprop === 'channelId' || itemprop === 'identifier') &&
            attributes.content !== undefined
          )
            meta = attributes.content
          if (ogTitle === undefined && attributes.property === 'og:title' && attributes.content !== undefined)
            ogTitle = attributes.content
        } else if (
          name === 'link' &&
          canonical === undefined &&
          attributes.rel === 'canonical' &&
          attributes.href !== undefined
        ) {
          const match = /\/channel\/([^/?]+)$/.exec(attributes.href)
          if (match) canonical = match[1]
        } else if (name === 'title' && title === undefined) {
          inTitle = true
          title = ''
        }
      },
      ontext(text) {
        if (inTitle) title += text
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false
      },
    },
    { decodeEntities: true, lowerCaseAttributeNames: false },
  )
  parser.end(html)
  const found = meta ?? canonical ?? SCRIPT_CHANNEL_ID.exec(html)?.[1]
  const named = (ogTitle ?? title)?.trim()
  return { ...(found !== undefined ? { found } : {}), ...(named ? { title: named } : {}) }
}

/**
 * Where a channel's uploads feed is; `base` is `https://www.youtube.com` unless configured (tests).
 *
 * @example
 * channelFeedUrl('https://www.youtube.com', 'UCxyz') // 'https://www.youtube.com/feeds/videos.xml?channel_id=UCxyz'
 */
export const channelFeedUrl = (base: string, channelId: string) =>
  `${base.replace(/\/$/, '')}/feeds/videos.xml?channel_id=${encodeURIComponent(channelId)}`

/** Seconds from a `Retry-After` header (seconds or an HTTP date), if it has one. */
function retryAfter(headers: Headers): number | undefined {
  const value = headers.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000)
}

/**
 * One guarded GET (each redirect hop checked, size and time bounded), reporting 429 as
 * RateLimitedError and any other failure as ChannelError.
 */
async function get(url: string, what: string, options: ChannelFetchOptions): Promise<string> {
  let response
  try {
    response = await guardedFetch(url, { ...options, headers: { 'accept-language': 'en' } })
  } catch (error) {
    if (error instanceof GuardedFetchError)
      throw new ChannelError(`could not fetch ${what} at ${url}: ${error.message}`, error.code)
    throw error
  }
  if (response.status === 429) {
    const host = new URL(response.url).host
    throw new RateLimitedError(`${host} answered 429 Too Many Requests for ${what}`, host, retryAfter(response.headers))
  }
  if (response.status < 200 || response.status > 299)
    throw new ChannelError(`${what} at ${url} answered HTTP ${response.status}`)
  return response.body
}

/**
 * The newest uploads of a channel from its feed (YouTube lists 15).
 *
 * @example
 * const videos = await fetchChannelFeed(channelFeedUrl(config.channels.feedBaseUrl, channelId), { allowedHosts })
 */
export async function fetchChannelFeed(url: string, options: ChannelFetchOptions): Promise<FeedVideo[]> {
  return await parseChannelFeed(await get(url, 'the channel feed', options))
}

/**
 * The channel a URL names, in any of YouTube's forms: `/channel/UC…` directly; `/@handle`,
 * `/c/…` and `/user/…` by reading the channel id from the page. Another (allowed) host's page
 * names its channel the same way YouTube's pages do: `<meta itemprop="channelId">` or a
 * canonical `/channel/…` link. What the page names must have the form of a YouTube channel id
 * (`UC` and 22 more characters); anything else is a ChannelError.
 *
 * @example
 * await resolveChannel('https://www.youtube.com/@LinusTechTips', { allowedHosts }) // { channelId: 'UCXuqSBlHAE6Xw-yeJA0Tunw', title: '…', listUrl: '…/channel/UCXu…/videos' }
 */
export async function resolveChannel(url: string, options: ChannelFetchOptions): Promise<ResolvedChannel> {
  const parsed = new URL(url)
  const youtube = isYouTubeUrl(url)
  const listUrlFor = (channelId: string) => (youtube ? `https://www.youtube.com/channel/${channelId}/videos` : url)
  const direct = CHANNEL_PATH.exec(parsed.pathname)?.[1]
  if (youtube && direct) return { channelId: direct, listUrl: listUrlFor(direct) }
  if (youtube && !NAMED_PATH.test(parsed.pathname)) {
    throw new ChannelError(`${url} is not a channel URL (expected /channel/UC…, /@handle, /c/… or /user/…)`)
  }
  const { found, title } = await readChannelPage(await get(url, 'the channel page', options))
  if (found === undefined) throw new ChannelError(`the page at ${url} names no channel`)
  // A video's page names the video in the same `identifier` meta a channel's page names the
  // channel in: taking whatever is there would subscribe to a video, so only a channel id's form is.
  if (!CHANNEL_ID.test(found)) {
    throw new ChannelError(
      `the page at ${url} names ${JSON.stringify(found)}, which is not a YouTube channel id (UC and 22 more characters)`,
    )
  }
  return { channelId: found, ...(title ? { title } : {}), listUrl: listUrlFor(found) }
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
export function nextSyncTime(
  from: Date,
  {
    intervalSeconds,
    jitterRatio,
    failures = 0,
    maxBackoffSeconds = Number.POSITIVE_INFINITY,
    random = Math.random,
  }: NextSyncOptions,
): Date {
  const base = Math.min(intervalSeconds * 2 ** failures, Math.max(intervalSeconds, maxBackoffSeconds))
  const jitter = base * jitterRatio * (random() * 2 - 1)
  return new Date(from.getTime() + (base + jitter) * 1000)
}
