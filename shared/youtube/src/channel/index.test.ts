import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { channelFeedXml, fixtureChannel, startFixtureServer, type FixtureServer } from '../fixtures/index.ts'
import {
  ChannelError,
  channelFeedUrl,
  fetchChannelFeed,
  nextSyncTime,
  parseChannelFeed,
  RateLimitedError,
  readChannelPage,
  resolveChannel,
} from './index.ts'

describe('parseChannelFeed', () => {
  it("reads every entry of a feed in YouTube's format, newest first, with entities decoded", async () => {
    const xml = channelFeedXml({
      channelId: 'UCabc',
      title: 'Talks',
      url: 'https://www.youtube.com/channel/UCabc',
      entries: [
        {
          videoId: 'old00000000',
          title: 'Old & dusty',
          url: 'https://www.youtube.com/watch?v=old00000000',
          published: new Date('2026-01-01T00:00:00Z'),
        },
        {
          videoId: 'new00000000',
          title: 'New <fresh>',
          url: 'https://www.youtube.com/watch?v=new00000000',
          published: new Date('2026-02-01T00:00:00Z'),
        },
      ],
    })
    expect(await parseChannelFeed(xml)).toEqual([
      {
        videoId: 'new00000000',
        title: 'New <fresh>',
        url: 'https://www.youtube.com/watch?v=new00000000',
        publishedAt: '2026-02-01T00:00:00.000Z',
      },
      {
        videoId: 'old00000000',
        title: 'Old & dusty',
        url: 'https://www.youtube.com/watch?v=old00000000',
        publishedAt: '2026-01-01T00:00:00.000Z',
      },
    ])
  })

  it('refuses what is not a feed, and gives none for an empty one', async () => {
    await expect(parseChannelFeed('<html><body>consent</body></html>')).rejects.toThrow(ChannelError)
    expect(await parseChannelFeed('<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>')).toEqual([])
  })

  it('builds the feed URL from a configurable base', () => {
    expect(channelFeedUrl('http://127.0.0.1:9/', 'UC a')).toBe('http://127.0.0.1:9/feeds/videos.xml?channel_id=UC%20a')
  })
})

describe('reading hostile pages in linear time', () => {
  // The regexes these replaced took 13 s on the first page (`<meta[^>]+itemprop=…[^>]+content=`
  // backtracks over every unterminated tag); a parser reads each byte once.
  it('reads a 300 KB page of "<meta " in milliseconds, and finds no channel in it', async () => {
    const html = '<meta '.repeat(50_000)
    expect(html.length).toBe(300_000)
    await readChannelPage('') // the parser's module loads on first use: not what is timed
    const started = performance.now()
    expect(await readChannelPage(html)).toEqual({})
    expect(performance.now() - started).toBeLessThan(250)
  })

  it('reads 300 KB of unterminated attributes, links and entries in milliseconds', async () => {
    const started = performance.now()
    expect(await readChannelPage('<link rel="canonical" href="'.repeat(10_000))).toEqual({})
    expect(await readChannelPage(`<meta itemprop="channelId" content="${'x'.repeat(300_000)}`)).toEqual({})
    expect(await parseChannelFeed(`<feed>${'<entry><yt:videoId>'.repeat(15_000)}`)).toEqual([])
    // Linear time reads these in milliseconds; a quadratic parser would take minutes. The bound
    // is loose on purpose: the suite runs beside yt-dlp and ffmpeg on two cores.
    expect(performance.now() - started).toBeLessThan(5_000)
  })

  it('still finds the channel id and title where YouTube puts them', async () => {
    expect(
      await readChannelPage(
        '<html><head><title> Talks &amp; more </title><meta itemprop="identifier" content="UCabcdefghijklmnopqrstuv"></head></html>',
      ),
    ).toEqual({
      found: 'UCabcdefghijklmnopqrstuv',
      title: 'Talks & more',
    })
    expect(
      await readChannelPage(
        '<link rel="canonical" href="https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv"><meta property="og:title" content="OG">',
      ),
    ).toEqual({
      found: 'UCabcdefghijklmnopqrstuv',
      title: 'OG',
    })
    expect(await readChannelPage('<script>var x = {"externalId":"UCabcdefghijklmnopqrstuv"}</script>')).toEqual({
      found: 'UCabcdefghijklmnopqrstuv',
    })
  })
})

describe('nextSyncTime', () => {
  const from = new Date('2026-11-26T00:00:00Z')
  const at = (options: Parameters<typeof nextSyncTime>[1]) =>
    (nextSyncTime(from, options).getTime() - from.getTime()) / 1000

  it('waits the interval, shifted by at most the jitter either way', () => {
    expect(at({ intervalSeconds: 3600, jitterRatio: 0.1, random: () => 0.5 })).toBe(3600)
    expect(at({ intervalSeconds: 3600, jitterRatio: 0.1, random: () => 0 })).toBe(3240)
    expect(at({ intervalSeconds: 3600, jitterRatio: 0.1, random: () => 1 })).toBe(3960)
  })

  it('doubles the wait per failure in a row, up to the cap', () => {
    const wait = (failures: number) =>
      at({ intervalSeconds: 3600, jitterRatio: 0, failures, maxBackoffSeconds: 86_400 })
    expect([0, 1, 2, 3, 5, 9].map(wait)).toEqual([3600, 7200, 14_400, 28_800, 86_400, 86_400])
  })
})

describe('resolveChannel and fetchChannelFeed against a fixture site', () => {
  let site: FixtureServer
  const guard = () => ({ allowedHosts: ['www.youtube.com', site.host] })
  beforeAll(async () => {
    site = await startFixtureServer()
    fixtureChannel(site, {
      channelId: 'UCfixtureChannel00000001',
      title: 'Fixture & friends',
      videos: [{ name: 'indexing', title: 'Indexing', published: new Date('2026-11-01T00:00:00Z') }],
    })
  })
  afterAll(() => site.close())

  it('takes a YouTube /channel/UC… URL as it is, and reads any other channel page for its id', async () => {
    expect(await resolveChannel('https://www.youtube.com/channel/UCXuqSBlHAE6Xw-yeJA0Tunw/videos', guard())).toEqual({
      channelId: 'UCXuqSBlHAE6Xw-yeJA0Tunw',
      listUrl: 'https://www.youtube.com/channel/UCXuqSBlHAE6Xw-yeJA0Tunw/videos',
    })
    expect(await resolveChannel(site.url('/uploads.html'), guard())).toEqual({
      channelId: 'UCfixtureChannel00000001',
      title: 'Fixture & friends',
      listUrl: site.url('/uploads.html'),
    })
  })

  it('refuses a YouTube URL that is not a channel, and a page that names none', async () => {
    await expect(resolveChannel('https://www.youtube.com/watch?v=dQw4w9WgXcQ', guard())).rejects.toThrow(
      /not a channel URL/,
    )
    await expect(resolveChannel(site.url('/indexing.html'), guard())).rejects.toThrow(/names no channel/)
  })

  it('refuses a page whose id is not a channel id (UC and 22 more), naming what it found', async () => {
    // A video's page names the video in itemprop="identifier", as YouTube's video pages do.
    site.setPage({
      path: '/a-video.html',
      title: 'A video',
      videos: [],
      head: '<meta itemprop="identifier" content="Td2-hY6uWk9">\n',
    })
    const refused = await resolveChannel(site.url('/a-video.html'), guard()).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ChannelError)
    expect((refused as Error).message).toBe(
      `the page at ${site.url('/a-video.html')} names "Td2-hY6uWk9", which is not a YouTube channel id (UC and 22 more characters)`,
    )
    // One character short, and a canonical link to something that is no channel, are refused alike.
    site.setPage({
      path: '/short.html',
      videos: [],
      head: '<meta itemprop="channelId" content="UCfixtureChannel0000001">\n',
    })
    await expect(resolveChannel(site.url('/short.html'), guard())).rejects.toThrow(
      /names "UCfixtureChannel0000001", which is not a YouTube channel id/,
    )
    site.setPage({
      path: '/canonical.html',
      videos: [],
      head: '<link rel="canonical" href="https://example.org/channel/latest">\n',
    })
    await expect(resolveChannel(site.url('/canonical.html'), guard())).rejects.toThrow(/names "latest", which is not/)
  })

  it('reads the feed, and tells a 429 (with its Retry-After) from other failures', async () => {
    const url = channelFeedUrl(site.origin, 'UCfixtureChannel00000001')
    expect((await fetchChannelFeed(url, guard())).map((video) => video.videoId)).toEqual(['uploads-1'])
    site.setRoute('/feeds/videos.xml?channel_id=UClimited', {
      status: 429,
      body: 'slow down',
      headers: { 'Retry-After': '42' },
    })
    const limited = await fetchChannelFeed(channelFeedUrl(site.origin, 'UClimited'), guard()).catch(
      (error: unknown) => error,
    )
    expect(limited).toBeInstanceOf(RateLimitedError)
    expect(limited).toMatchObject({ host: site.host, retryAfterSeconds: 42 })
    await expect(fetchChannelFeed(channelFeedUrl(site.origin, 'UCmissing'), guard())).rejects.toThrow(
      /answered HTTP 404/,
    )
  })
})
