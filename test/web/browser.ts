// Debian's Chromium driven by puppeteer-core (nothing downloads a browser), for the web page's
// tests and its screenshots. Every request off this machine is refused and written down: the
// page is tested offline, and a test can say what it would have fetched (YouTube's player).
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'
import { describe, it } from 'vitest'

/** The Chromium to drive: CHROMIUM_PATH, else Debian's (`scripts/system-deps.sh` installs it). */
const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find(
  (path): path is string => !!path && existsSync(path),
)
const chromiumMissing =
  "Chromium not found: install Debian's `chromium` (bash scripts/system-deps.sh) or set CHROMIUM_PATH"

/**
 * A describe block of tests that drive Chromium. In CI a missing Chromium fails a test of its
 * own; elsewhere the block is skipped, with a warning that says how to get Chromium.
 */
export function describeInChromium(name: string, body: () => void): void {
  if (!chromiumPath && !process.env.CI) console.warn(`test/web skipped: ${chromiumMissing}`)
  describe(name, () => {
    // Skipped wherever Chromium is found (every CI run here) or off CI, where the warning above
    // says how to get it; in CI without Chromium it runs and fails.
    it.runIf(!!process.env.CI && !chromiumPath)('has Chromium to run in (CI)', () => {
      throw new Error(chromiumMissing)
    })
  })
  // Skipped only off CI when Chromium is not installed (the warning above says how to get it);
  // in CI the test above fails instead.
  describe.skipIf(!chromiumPath)(name, body)
}

export async function launchChromium(): Promise<Browser> {
  if (!chromiumPath) throw new Error(chromiumMissing)
  return puppeteer.launch({
    executablePath: chromiumPath,
    // Chromium's sandbox needs user namespaces, which a root CI container does not give.
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-gpu', '--mute-audio', '--no-first-run'],
    headless: true,
  })
}

export interface OfflinePage {
  page: Page
  /** Every request refused because it would have left this machine, in order. */
  refused: string[]
}

const onThisMachine = (url: string) => {
  const { protocol, hostname } = new URL(url)
  return (
    protocol === 'data:' ||
    protocol === 'about:' ||
    hostname === '127.0.0.1' ||
    hostname === 'localhost' ||
    hostname === '[::1]'
  )
}

/** A tab whose requests reach loopback only; the rest fail at once and are listed in `refused`. */
export async function openOfflinePage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<OfflinePage> {
  const page = await browser.newPage()
  await page.setViewport(viewport)
  const refused: string[] = []
  await page.setRequestInterception(true)
  page.on('request', (request) => {
    if (onThisMachine(request.url())) void request.continue()
    else {
      refused.push(request.url())
      void request.abort('internetdisconnected')
    }
  })
  // The page asks before deleting: the tests say yes.
  page.on('dialog', (dialog) => void dialog.accept())
  return { page, refused }
}

const axeSource = () => readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

/**
 * axe-core's WCAG 2 A/AA checks on the page as it is now; the page's policy allows only its own
 * script, so the tab must have been opened with `page.setBypassCSP(true)` for axe to run.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource() })
  return page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }
    ).axe
    const { violations } = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    })
    return violations.map(({ id, impact, help, nodes }) => ({
      id,
      impact,
      help,
      nodes: nodes.map(({ target }) => ({ target })),
    }))
  })
}

/** Waits until the page's script has run (it marks the document ready). */
export const pageReady = (page: Page) => page.waitForSelector('html[data-ready]')
