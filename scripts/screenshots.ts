// `npm run screenshots`: the web page's screenshots in docs/screenshots/, at desktop and phone
// widths, taken from a real run: the server started as `npm start` starts it over empty stores
// in a temporary folder, the fixture site's playlist and channel ingested through the API, and
// Debian's Chromium (offline: nothing leaves the machine) driving the page.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fixtureChannel, pennyFarthingCue, SAMPLE_VIDEOS, startFixtureServer } from '@ytrag/youtube/fixtures'
import type { Page } from 'puppeteer-core'
import { root, startServerProcess } from '../apps/local/test/server-process.ts'
import { launchChromium, openOfflinePage, pageReady } from '../test/web/browser.ts'

const out = join(root, 'docs/screenshots')
const viewports = {
  desktop: { width: 1280, height: 860 },
  phone: { width: 390, height: 844, isMobile: true, deviceScaleFactor: 1 },
}

const site = await startFixtureServer({ videos: [...SAMPLE_VIDEOS] })
const channel = fixtureChannel(site, {
  channelId: 'UCfixtureScreenshots0001',
  title: 'Fixture talks',
  videos: [{ name: 'bicycle', title: 'A short history of the bicycle', published: new Date(Date.now() - 86_400_000) }],
})
const dir = mkdtempSync(join(tmpdir(), 'ytrag-screenshots-'))
const server = await startServerProcess({
  YOUTUBE_RAG__STORAGE__DIR: dir,
  YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: site.host,
  YOUTUBE_RAG__CHANNELS__FEED_BASE_URL: site.origin,
  YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.05',
  YOUTUBE_RAG__LOG__LEVEL: 'warn',
})
const browser = await launchChromium()
try {
  await server.waitForJob(await server.ingest(site.url('/all.html')))
  const subscribed = await server.call<{ jobId: string }>('POST', '/v1/channels', { url: channel.url, backfill: 1 })
  await server.waitForJob(subscribed.body.jobId)
  mkdirSync(out, { recursive: true })

  const settle = (page: Page) => page.waitForFunction(() => !document.querySelector('[aria-busy]'))
  for (const [width, viewport] of Object.entries(viewports)) {
    const { page } = await openOfflinePage(browser, viewport)
    await page.goto(`${server.base}/#ask`)
    await pageReady(page)
    await page.locator('#question').fill(pennyFarthingCue.question)
    await page.click('#ask-form button[type=submit]')
    await page.waitForSelector('#answer[data-done]')
    await page.click('#citations button.play')
    await page.screenshot({ path: join(out, `ask-${width}.png`) })

    await page.evaluate(() => (location.hash = 'library'))
    await settle(page)
    // From the keyboard, as the page test does: the sticky player (a <video> here) can cover the button.
    await page.focus('#videos li[data-video-id="all-3"] .actions button:first-child')
    await page.keyboard.press('Enter')
    await page.waitForSelector('#transcript:not([hidden])')
    await page.evaluate(() => scrollTo(0, 0))
    await page.screenshot({ path: join(out, `library-${width}.png`) })

    await page.evaluate(() => (location.hash = 'ingest'))
    await page.locator('#ingest-url').fill(site.url('/all.html'))
    await page.click('#ingest-form button[type=submit]')
    await page.waitForSelector('#jobs li[data-status=partial]', { timeout: 60_000 })
    await settle(page)
    await page.screenshot({ path: join(out, `ingest-${width}.png`) })
    await page.close()
  }
  for (const name of ['ask', 'library', 'ingest'].flatMap((view) =>
    Object.keys(viewports).map((width) => `${view}-${width}.png`),
  )) {
    console.log(`docs/screenshots/${name}: ${Math.round(statSync(join(out, name)).size / 1024)} KB`)
  }
} finally {
  await browser.close()
  await server.stop()
  await site.close()
  rmSync(dir, { recursive: true, force: true })
}
