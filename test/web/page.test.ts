// The page as a person uses it: the server started the way `npm start` starts it, the fixture
// site's playlist and channel read by the real yt-dlp, and every step taken in headless
// Chromium through the page's own forms and buttons (offline: requests off loopback are refused).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  fixtureChannel,
  pennyFarthingCue,
  SAMPLE_VIDEOS,
  startFixtureServer,
  type FixtureChannel,
  type FixtureServer,
} from '@ytrag/youtube/fixtures'
import type { Browser, Page } from 'puppeteer-core'
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest'
import { startServerProcess, type ServerProcess } from '../../apps/local/test/server-process.ts'
import {
  axeViolations,
  describeInChromium,
  launchChromium,
  openOfflinePage,
  pageReady,
  type OfflinePage,
} from './browser.ts'

const CHANNEL_ID = 'UCfixtureWebPage00000001'
const FINISHED = '[data-status=succeeded], [data-status=partial], [data-status=failed]'

describeInChromium('the web page, end to end', () => {
  let site: FixtureServer
  let channel: FixtureChannel
  let server: ServerProcess
  let dir: string
  let browser: Browser
  let tab: OfflinePage
  let page: Page
  /**
   * A second tab under the page's own Content-Security-Policy (the first bypasses it for axe),
   * open for one test only: a tab in the background has its timers and animation frames held back.
   */
  let strict: OfflinePage | undefined
  /** What the browser refused under the policy, as it reported it in the console. */
  const policyViolations: string[] = []

  beforeAll(async () => {
    // Media as long as the captions, so the player can seek to a cited moment (151 s) in it.
    site = await startFixtureServer({ videos: [...SAMPLE_VIDEOS], mediaSeconds: 180 })
    channel = fixtureChannel(site, {
      channelId: CHANNEL_ID,
      title: 'Fixture talks',
      videos: [
        { name: 'bicycle', title: 'A short history of the bicycle', published: new Date(Date.now() - 86_400_000) },
      ],
    })
    dir = mkdtempSync(join(tmpdir(), 'ytrag-web-'))
    server = await startServerProcess({
      YOUTUBE_RAG__STORAGE__DIR: dir,
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: site.host,
      YOUTUBE_RAG__CHANNELS__FEED_BASE_URL: site.origin,
      YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.05',
      YOUTUBE_RAG__LOG__LEVEL: 'warn',
    })
    browser = await launchChromium()
    tab = await openOfflinePage(browser)
    page = tab.page
    // For axe's script only: the page's policy allows its own script alone.
    await page.setBypassCSP(true)
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await site?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  /** Waits for `condition` in the page; a timeout says what the page shows in `where`. */
  const until = async (condition: string, where: string, timeout = 20_000) => {
    try {
      await page.waitForFunction(condition, { timeout })
    } catch (error) {
      const shown = await page.$$eval(where, (elements) => elements.map((element) => element.textContent).join(' | '))
      throw new Error(`${(error as Error).message}: waiting for ${condition}; ${where} shows: ${shown}`)
    }
  }
  /** Every job the page follows finished and no list loading: what a click lands on stays put. */
  const settled = () => until(`!document.querySelector('#jobs li:not(${FINISHED}), [aria-busy]')`, '#jobs li', 60_000)
  /**
   * Activates a control from the keyboard: once a citation has played, the sticky player above
   * the lists (a <video> here) may cover the control where a mouse click would land.
   */
  const press = async (selector: string) => {
    await page.focus(selector)
    await page.keyboard.press('Enter')
  }
  const view = async (name: string) => {
    await page.evaluate((hash) => (location.hash = hash), name)
    await page.waitForSelector(`#${name}:not([hidden])`)
    await settled()
  }

  it('loads in one request under 100 KB and is interactive within a second', async () => {
    await page.goto(server.base)
    await pageReady(page)
    const timing = await page.evaluate(() => {
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming
      const interactive = performance.getEntriesByName('ytrag-interactive')[0]!
      return {
        transferSize: navigation.transferSize,
        encodedBodySize: navigation.encodedBodySize,
        decodedBodySize: navigation.decodedBodySize,
        interactive: interactive.startTime,
      }
    })
    const resources = await page.evaluate(() => performance.getEntriesByType('resource').map((entry) => entry.name))
    console.log(
      `first load: ${timing.transferSize} bytes transferred (${timing.encodedBodySize} gzipped body, ` +
        `${timing.decodedBodySize} unzipped), interactive at ${timing.interactive.toFixed(0)} ms`,
    )
    expect(timing.transferSize).toBeLessThan(100_000)
    expect(timing.encodedBodySize).toBeLessThan(timing.decodedBodySize)
    expect(timing.interactive).toBeLessThan(1000)
    // Nothing else to fetch before it works: the ask view asks the API for nothing until asked.
    expect(resources).toEqual([])
  })

  it('ingests the fixture playlist through the page: its progress bar goes to done, the failure in words', async () => {
    await view('ingest')
    await page.locator('#ingest-url').fill(site.url('/all.html'))
    await page.click('#ingest-form button[type=submit]')
    const card = await page.waitForSelector('#jobs li[data-status]')
    const seen: string[] = []
    for (
      const deadline = Date.now() + 90_000;
      Date.now() < deadline;
      await new Promise((done) => setTimeout(done, 100))
    ) {
      const state = await card!.evaluate((item) => {
        const bar = item.querySelector('progress')!
        return `${item.dataset.status} ${bar.getAttribute('value')}/${bar.max}`
      })
      if (seen.at(-1) !== state) seen.push(state)
      if (/^(succeeded|partial|failed) /.test(state)) break
    }
    console.log(`progress seen: ${seen.join(' → ')}`)
    expect(seen.at(-1)).toBe('partial 4/4')
    expect(seen.length).toBeGreaterThan(1)
    const text = await card!.evaluate((item) => item.textContent)
    expect(text).toContain('3 indexed, 1 failed, 0 skipped')
    expect(text).toContain('no captions and speech-to-text is not configured')
  })

  let expected: { n: number; moment: number; quote?: string; url: string; text: string }
  it('asks a question: the answer streams in with citation cards', async () => {
    const { body } = await server.call<{ citations: (typeof expected)[] }>('POST', '/v1/ask', {
      question: pennyFarthingCue.question,
    })
    expected = body.citations.find((citation) => citation.text.toLowerCase().includes(pennyFarthingCue.phrase))!
    expect(expected).toBeDefined()
    await view('ask')
    await page.locator('#question').fill(pennyFarthingCue.question)
    await page.click('#ask-form button[type=submit]')
    await page.waitForSelector('#answer[data-done]')
    const answer = await page.$eval('#answer', (element) => element.textContent!)
    expect(answer).toContain(`[${expected.n}]`)
    const card = await page.$eval(`#citation-${expected.n}`, (item) => item.textContent!)
    expect(card).toContain('All videos')
    expect(card.toLowerCase()).toContain(pennyFarthingCue.phrase)
    const m = Math.floor(expected.moment)
    expect(card).toContain(`${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`)
    // What the moment plays is marked inside the passage.
    expect(expected.quote).toBeTruthy()
    expect(await page.$eval(`#citation-${expected.n} mark.moment`, (mark) => mark.textContent)).toBe(expected.quote)
  })

  it('plays a citation: the player is set to its second (a link to the moment, for a site not YouTube)', async () => {
    await page.click(`#citation-${expected.n} button.play`)
    const second = String(Math.floor(expected.moment))
    expect(await page.$eval('#player', (player) => (player as HTMLElement).dataset.start)).toBe(second)
    expect(await page.$eval('#player-link', (link) => link.getAttribute('href'))).toBe(expected.url)
    expect(expected.url).toBe(`${site.url('/all.html')}#t=${second}`)
  })

  it("plays a citation of a site not YouTube in a <video> of the page's media file, at the cited second, under the page's policy", async () => {
    strict = await openOfflinePage(browser)
    const tab = strict.page
    tab.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text())
    })
    onTestFinished(async () => {
      await tab.close()
      await page.bringToFront()
    })
    await tab.goto(server.base)
    await pageReady(tab)
    await tab.locator('#question').fill(pennyFarthingCue.question)
    await tab.click('#ask-form button[type=submit]')
    await tab.waitForSelector('#answer[data-done]')
    await tab.click(`#citation-${expected.n} button.play`)
    const second = Math.floor(expected.moment)
    const video = await tab.waitForSelector('#player video')
    // The fixture's `<video src>`, from GET /v1/videos/{id}'s mediaUrl; the page's link stays beside it.
    expect(await video!.evaluate((element) => (element as HTMLVideoElement).src)).toBe(site.url('/media/bicycle.mp4'))
    expect(await tab.$eval('#player', (player) => (player as HTMLElement).dataset.start)).toBe(String(second))
    expect(await tab.$eval('#player-link', (link) => link.getAttribute('href'))).toBe(expected.url)
    // Set once the file's metadata is in (Chromium plays the fixture's H.264 and AAC).
    const played = async () => {
      await tab.waitForFunction(
        (at) => {
          const element = document.querySelector<HTMLVideoElement>('#player video')!
          return element.readyState >= HTMLMediaElement.HAVE_METADATA && Math.abs(element.currentTime - at) < 1
        },
        { timeout: 20_000 },
        second,
      )
      return tab.$eval('#player video', (element) => {
        const media = element as HTMLVideoElement
        return { currentTime: media.currentTime, duration: media.duration, error: media.error?.code }
      })
    }
    const at = await played()
    console.log(`<video> at ${at.currentTime.toFixed(2)} s of ${at.duration.toFixed(0)} s (cited: ${second} s)`)
    expect(at.error).toBeUndefined()
    expect(at.duration).toBeGreaterThan(second)

    // The same video at another moment (a line of its transcript): the same <video>, sought there.
    const [element] = await tab.$$('#player video')
    await tab.evaluate(() => (location.hash = 'library'))
    await tab.waitForSelector('#videos li[data-video-id="all-3"] .actions button:first-child:not([disabled])')
    await tab.click('#videos li[data-video-id="all-3"] .actions button:first-child')
    await tab.waitForSelector('#transcript:not([hidden]) #transcript-lines a')
    const line = (await tab.$$('#transcript-lines a'))[2]!
    const start = Number(await line.evaluate((link) => link.dataset.start))
    expect(Math.abs(start - second)).toBeGreaterThan(5)
    // From the keyboard: the sticky player above the list may cover the line where a mouse would click.
    await line.focus()
    await tab.keyboard.press('Enter')
    await tab.waitForFunction(
      (at) => Math.abs(document.querySelector<HTMLVideoElement>('#player video')!.currentTime - at) < 1,
      { timeout: 20_000 },
      start,
    )
    expect(await element!.evaluate((node) => node.isConnected)).toBe(true)
    expect(await tab.$eval('#player-link', (link) => link.getAttribute('href'))).toBe(
      `${site.url('/all.html')}#t=${start}`,
    )
    expect(policyViolations).toEqual([])
  })

  it('searches with the matching words marked, and filters by video', async () => {
    await view('search')
    await page.locator('#query').fill('penny farthing')
    await page.click('#search-form button[type=submit]')
    await page.waitForSelector('#hits li')
    const marked = await page.$$eval('#hits mark', (marks) => marks.map((mark) => mark.textContent!.toLowerCase()))
    expect(marked).toContain('penny')
    expect(marked).toContain('farthing')
    const videosOf = async () =>
      new Set(await page.$$eval('#hits li', (items) => items.map((item) => item.dataset.videoId)))
    const search = async (query: string) => {
      await page.locator('#query').fill(query)
      await page.click('#search-form button[type=submit]')
      await page.waitForFunction(() =>
        /^\d+ passages?$/.test(document.querySelector('#search-status')?.textContent ?? ''),
      )
    }
    await search('index sourdough bicycle')
    expect((await videosOf()).size).toBeGreaterThan(1)
    await page.select('#filter-video', 'all-2')
    await search('index sourdough bicycle')
    expect(await videosOf()).toEqual(new Set(['all-2']))
  })

  it('lists the library with each stage and the transcript source, and follows a transcript line', async () => {
    await view('library')
    const card = await page.waitForSelector('#videos li[data-video-id="all-2"]')
    const text = await card!.evaluate((item) => item.textContent!)
    expect(text).toContain('indexed · download done · transcribe skipped · index done')
    expect(text).toContain("Transcript: creator's captions, en")
    expect(await page.$eval('#videos li[data-video-id="all-4"]', (item) => item.textContent)).toContain(
      'no captions and speech-to-text is not configured',
    )
    await press('#videos li[data-video-id="all-3"] .actions button:first-child')
    await page.waitForSelector('#transcript:not([hidden]) #transcript-lines a')
    const line = (await page.$$('#transcript-lines a'))[5]!
    const start = await line.evaluate((link) => link.dataset.start!)
    await line.focus() // from the keyboard, as `press` does
    await page.keyboard.press('Enter')
    expect(await page.$eval('#player', (player) => (player as HTMLElement).dataset.start)).toBe(start)
    expect(await page.$eval('#player-link', (link) => link.getAttribute('href'))).toBe(
      `${site.url('/all.html')}#t=${start}`,
    )
  })

  it('deletes a video', async () => {
    await press('#videos li[data-video-id="all-2"] .actions button:last-child')
    await until(`!document.querySelector('#videos li[data-video-id="all-2"]')`, '#library-status, #notice')
    expect(await page.$eval('#library-status', (status) => status.textContent)).toMatch(/^Deleted “All videos \(2\)”/)
    expect((await server.call('GET', '/v1/videos/all-2')).status).toBe(404)
  })

  it('subscribes to the fixture channel: its backfill runs, its sync state shows, "sync now" syncs it', async () => {
    await view('ingest')
    await page.locator('#channel-url').fill(channel.url)
    await page.locator('#channel-backfill').fill('1')
    await page.click('#subscribe-form button[type=submit]')
    const card = await page.waitForSelector(`#channels li[data-channel-id="${CHANNEL_ID}"]`)
    expect(await card!.evaluate((item) => item.querySelector('h3')!.textContent)).toBe('Fixture talks')
    const finished = (count: number) =>
      until(
        `document.querySelectorAll('#jobs li[data-status=succeeded]').length >= ${count}`,
        '#jobs li, #channels li, #subscribe-status',
        60_000,
      )
    await finished(1)
    await settled()
    expect(
      await page.$eval(`#channels li[data-channel-id="${CHANNEL_ID}"] .sync-state`, (state) => state.textContent),
    ).toMatch(/^Last sync: .+ \(ok, 1 new\) · next: /)
    await page.click(`#channels li[data-channel-id="${CHANNEL_ID}"] .actions button:first-child`)
    await finished(2)
    expect(
      (await server.call<{ videos: { indexed: number } }>('GET', `/v1/videos/${channel.videoIds.bicycle}`)).status,
    ).toBe(200)
  }, 150_000)

  it('has no serious accessibility violation in any view, with content', async () => {
    for (const name of ['ask', 'search', 'library', 'ingest']) {
      await view(name)
      await page.waitForNetworkIdle({ idleTime: 200, timeout: 5_000 })
      const violations = await axeViolations(page)
      if (violations.length)
        console.log(
          `axe, #${name}: ${violations.map((violation) => `${violation.id} (${violation.impact})`).join(', ')}`,
        )
      const serious = violations.filter(
        (violation) => violation.impact === 'serious' || violation.impact === 'critical',
      )
      expect(serious, `#${name}: ${JSON.stringify(serious, null, 1)}`).toEqual([])
    }
  })

  it('sent nothing off this machine', () => {
    expect(tab.refused).toEqual([])
    expect(strict?.refused).toEqual([])
  })
})
