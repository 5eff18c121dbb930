import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { isYouTubeUrl, parseAllowEntry } from '@ytrag/youtube'
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

export interface WebPageOptions {
  /**
   * The hosts videos may be ingested from (`INGEST__ALLOWED_HOSTS`): a video's `mediaUrl` is on
   * its page's host, so the page's `<video>` may load media from these and nowhere else.
   * Default: none (media from the page's own origin only).
   */
  mediaHosts?: readonly string[]
}

/**
 * The CSP sources of allow-list entries (`host`, `host:port`, `*.host`), read as the ingest check
 * reads them (`parseAllowEntry`): any port when the entry
 * names none, and no scheme, so the page's own scheme (and https from an http page) is allowed.
 * YouTube's hosts are left out (its videos play in its embed, and have no media URL). An entry
 * CSP cannot name (an IPv6 literal) or that is not a plain host is left out too: its media is
 * refused by the browser, and the player falls back to the link to the page.
 *
 * @example
 * mediaSources(['www.youtube.com', '127.0.0.1:4000', '*.example.org']) // ['127.0.0.1:4000', '*.example.org:*']
 */
export function mediaSources(hosts: readonly string[]): string[] {
  return hosts.flatMap((raw) => {
    const entry = parseAllowEntry(raw)
    // A CSP source holds a plain name: an IPv6 literal cannot be one, and nothing may ride along
    // with it (a ';' would end the directive).
    if (!entry || !/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(entry.host)) return []
    if (isYouTubeUrl(`https://${entry.host}/`)) return []
    return [`${entry.wildcard ? '*.' : ''}${entry.host}:${entry.port ?? '*'}`]
  })
}

/** Built on the first request, not at start-up: a scale-from-zero start waits for none of it. */
function buildPage({ mediaHosts = [] }: WebPageOptions): BuiltPage {
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
    // The player's <video> of a source that is not YouTube: the API gives a video's media URL only
    // for a file on its page's own host, which ingest allowed, so these hosts are all it needs.
    ["media-src 'self'", ...mediaSources(mediaHosts)].join(' '),
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
 * app.route('/', webPage({ mediaHosts: config.ingest.allowedHosts }))
 * ```
 */
export function webPage(options: WebPageOptions = {}): Hono {
  const app = new Hono()
  let page: BuiltPage | undefined
  app.get('/', (c) => {
    page ??= buildPage(options)
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
