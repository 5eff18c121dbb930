// The page in real headless Chromium against the api function over real HTTP, with API keys on
// and a YouTube video in its stores: the page asks for a key in words, keeps it, and a citation
// sets YouTube's privacy-enhanced player to the cited second (offline here: YouTube's IFrame
// API never loads, and the test checks the player's address, which holds the second).
import { createHash } from 'node:crypto'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { blobKeys, chunkId } from '@ytrag/stores'
import type { Browser } from 'puppeteer-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { api } from '../../functions/api/src/index.ts'
import {
  axeViolations,
  describeInChromium,
  launchChromium,
  openOfflinePage,
  pageReady,
  type OfflinePage,
} from './browser.ts'

const KEY = 'a-key-for-the-page'
const VIDEO = 'dQw4w9WgXcQ'
const WATCH = `https://www.youtube.com/watch?v=${VIDEO}`

describeInChromium('the web page in Chromium: the API key and the YouTube player', () => {
  let fn: FunctionUnderTest
  let browser: Browser
  let tab: OfflinePage

  beforeAll(async () => {
    fn = await startFunctionUnderTest(api, { YOUTUBE_RAG__API__KEYS: createHash('sha256').update(KEY).digest('hex') })
    const { documents, chunks, blobs } = fn.stores
    const transcript = {
      videoId: VIDEO,
      source: 'captions',
      language: 'en',
      segments: [
        { start: 0, end: 4, text: 'Welcome.' },
        { start: 754.6, end: 770, text: 'A covering index holds every column.' },
      ],
    }
    await documents.insertVideo({ videoId: VIDEO, url: WATCH, title: 'Indexes in depth' })
    await blobs.put(blobKeys.transcript(VIDEO), JSON.stringify(transcript))
    await documents.updateVideo(VIDEO, 'download', 'done', {
      transcript: {
        source: 'captions',
        language: 'en',
        choice: 'original-language',
        blobKey: blobKeys.transcript(VIDEO),
        segmentCount: 2,
      },
      chapters: [
        { title: 'Tables', start: 0, end: 740 },
        { title: 'Covering indexes', start: 740, end: 800 },
      ],
    })
    await documents.updateVideo(VIDEO, 'index', 'done', { chunkCount: 2 })
    await chunks.replaceVideoChunks(VIDEO, [
      {
        id: chunkId(VIDEO, 0),
        videoId: VIDEO,
        chunkIndex: 0,
        title: 'Indexes in depth',
        url: WATCH,
        start: 0,
        end: 18,
        text: 'Welcome. Today we talk about tables.',
      },
      {
        id: chunkId(VIDEO, 1),
        videoId: VIDEO,
        chunkIndex: 1,
        title: 'Indexes in depth',
        url: WATCH,
        start: 754.6,
        end: 770,
        text: 'A covering index holds every column the query reads.',
        chapter: { title: 'Covering indexes', start: 740 },
      },
    ])
    browser = await launchChromium()
    tab = await openOfflinePage(browser)
    await tab.page.setBypassCSP(true)
    await tab.page.goto(fn.url)
    await pageReady(tab.page)
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await fn?.close()
  })

  const ask = async (question: string) => {
    const { page } = tab
    await page.locator('#question').fill(question)
    await page.click('#ask-form button[type=submit]')
  }

  it('asks for the API key in words when the server answers 401, and focuses its field', async () => {
    const { page } = tab
    await ask('what does a covering index hold?')
    await page.waitForSelector('#notice:not([hidden])')
    expect(await page.$eval('#notice', (notice) => notice.textContent)).toBe(
      'This server needs an API key: enter it in the API key field above.',
    )
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key')
  })

  it('keeps the key in the browser and sends it: the answer streams in with its citation', async () => {
    const { page } = tab
    await page.keyboard.type(KEY)
    await page.keyboard.press('Enter')
    expect(await page.evaluate(() => localStorage.getItem('ytrag.apiKey'))).toBe(KEY)
    expect(await page.$eval('#notice', (notice) => (notice as HTMLElement).hidden)).toBe(true)
    await ask('what does a covering index hold?')
    await page.waitForSelector('#answer[data-done]')
    const card = await page.$eval('#citations li', (item) => item.textContent)
    expect(card).toContain('Indexes in depth')
    expect(card).toContain('Covering indexes · 12:34')
    expect(card).toContain('A covering index holds every column the query reads.')
    expect(await page.$eval('#answer', (answer) => answer.textContent)).toMatch(/\[1\]/)
  })

  it('plays a citation from the keyboard: the YouTube embed is set to that second', async () => {
    const { page } = tab
    await page.focus('#citations button.play')
    await page.keyboard.press('Enter')
    const src = await page.$eval('#player iframe', (iframe) => iframe.getAttribute('src')!)
    const url = new URL(src)
    expect(url.origin + url.pathname).toBe(`https://www.youtube-nocookie.com/embed/${VIDEO}`)
    expect(url.searchParams.get('start')).toBe('754')
    expect(await page.$eval('#player', (player) => (player as HTMLElement).dataset.start)).toBe('754')
    // Offline the IFrame API cannot load: the page says so and keeps the plain embed.
    await page.waitForSelector('#player[data-api=unavailable]')
    expect(tab.refused).toContain('https://www.youtube.com/iframe_api')
    expect(
      tab.refused.some((refused) => refused.startsWith(`https://www.youtube-nocookie.com/embed/${VIDEO}?start=754`)),
    ).toBe(true)
    expect(await page.$eval('#player-caption a', (link) => link.getAttribute('href'))).toBe(`${WATCH}&t=754s`)
  })

  it('follows a transcript line to its second, in the embed', async () => {
    const { page } = tab
    await page.evaluate(() => (location.hash = 'library'))
    const transcriptButton = await page.waitForSelector(
      `#videos li[data-video-id="${VIDEO}"] .actions button:first-child`,
    )
    expect(await transcriptButton!.evaluate((button) => button.textContent)).toBe('Transcript')
    await transcriptButton!.click()
    await page.waitForSelector('#transcript:not([hidden]) #transcript-lines a')
    const lines = await page.$$('#transcript-lines a')
    expect(lines).toHaveLength(2)
    await lines[0]!.click()
    expect(await page.$eval('#player', (player) => (player as HTMLElement).dataset.start)).toBe('0')
    await lines[1]!.click()
    expect(new URL(await page.$eval('#player iframe', (iframe) => iframe.src)).searchParams.get('start')).toBe('754')
  })

  it('fits a phone screen and has no serious accessibility violation, light or dark', async () => {
    const { page } = tab
    await page.setViewport({ width: 390, height: 844, isMobile: true })
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }])
      for (const view of ['ask', 'search', 'library', 'ingest']) {
        await page.evaluate((name) => (location.hash = name), view)
        await page.waitForSelector(`#${view}:not([hidden])`)
        await page.waitForNetworkIdle({ idleTime: 200, timeout: 5_000 })
        expect(
          await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
          `${view} overflows at 390 px`,
        ).toBe(true)
        const serious = (await axeViolations(page)).filter(
          (violation) => violation.impact === 'serious' || violation.impact === 'critical',
        )
        expect(serious, `${scheme} #${view}: ${JSON.stringify(serious, null, 1)}`).toEqual([])
      }
    }
  })
})
