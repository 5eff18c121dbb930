import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { Hono } from 'hono'
import { clientScript } from './client.generated.ts'
import { renderPage } from './page.tsx'
import { styles } from './styles.ts'

/** The page as sent: its HTML, gzipped once, and the validators and policy that go with it. */
interface BuiltPage {
  html: string
  gzip: Buffer
  etag: string
  contentSecurityPolicy: string
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64')

/** Built on the first request, not at start-up: a scale-from-zero start waits for none of it. */
function buildPage(): BuiltPage {
  const script = clientScript
  // Text inside <script> ends at the first "</script": the code must never hold one.
  if (/<\/script/i.test(script)) throw new Error('the page script holds "</script"')
  const html = renderPage({ script, css: styles })
  const contentSecurityPolicy = [
    "default-src 'self'",
    // Only this script (by its hash) and YouTube's IFrame API, which loads its own from www.youtube.com.
    `script-src 'sha256-${sha256(script)}' https://www.youtube.com`,
    `style-src 'sha256-${sha256(styles)}'`,
    'frame-src https://www.youtube-nocookie.com',
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  return { html, gzip: gzipSync(html, { level: 9 }), etag: `"${sha256(html).slice(0, 27)}"`, contentSecurityPolicy }
}

/**
 * `GET /`: the web page (ask, search, library, ingest; docs/web.md). Server-rendered markup with
 * its stylesheet and script inline, so a first visit is one request. It is not part of /v1 and
 * needs no key itself: the page sends the key the user enters (kept in localStorage) with its
 * own calls to /v1. Not in the OpenAPI document.
 *
 * @example
 * ```ts
 * app.route('/', webPage())
 * ```
 */
export function webPage(): Hono {
  const app = new Hono()
  let page: BuiltPage | undefined
  app.get('/', (c) => {
    page ??= buildPage()
    const headers: Record<string, string> = {
      'content-type': 'text/html; charset=utf-8',
      // Revalidated on each visit (an upgrade shows at once); a 304 when nothing changed.
      'cache-control': 'no-cache',
      etag: page.etag,
      vary: 'accept-encoding',
      'content-security-policy': page.contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'strict-origin-when-cross-origin',
    }
    if (c.req.header('if-none-match') === page.etag) return c.body(null, 304, headers)
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? ''))
      return c.body(new Uint8Array(page.gzip), 200, { ...headers, 'content-encoding': 'gzip' })
    return c.body(page.html, 200, headers)
  })
  return app
}
