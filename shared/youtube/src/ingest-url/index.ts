import { lookup } from 'node:dns/promises'
import { addressRange, isIpLiteral, type AddressRange } from './ip.ts'

export { addressRange, isIpLiteral, type AddressRange } from './ip.ts'

/** Why a URL was refused; the API answers 400 with this code. */
export type IngestUrlErrorCode = 'invalid_url' | 'unsupported_scheme' | 'host_not_allowed' | 'private_address'

export type IngestUrlCheck = { ok: true; url: URL } | { ok: false; code: IngestUrlErrorCode; message: string }

export type IngestUrlOptions = {
  /** Entries `host` (any port) or `host:port`, case-insensitive, IPv6 in brackets (`[::1]:4000`). */
  allowedHosts: readonly string[]
  /** Every address a host name resolves to. Default: `dns.lookup` with `all: true`. */
  resolve?: (host: string) => Promise<string[]>
  /** The setting that holds the allow-list, named in messages so users know what to change. */
  allowListName?: string
}

type AllowEntry = { host: string; port: number | undefined; explicit: boolean }

const DEFAULT_ALLOW_LIST_NAME = 'YOUTUBE_RAG__INGEST__ALLOWED_HOSTS'

const RANGE_NAMES: Record<AddressRange, string> = {
  unspecified: 'an unspecified',
  loopback: 'a loopback',
  private: 'a private',
  'link-local': 'a link-local',
  'unique-local': 'a unique-local',
  cgnat: 'a carrier-grade NAT',
  multicast: 'a multicast',
  reserved: 'a reserved',
}

const defaultResolve = async (host: string) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address)

// `URL` canonicalises hosts (lower case, punycode, `0x7f.1` → `127.0.0.1`, `[::0001]` →
// `[::1]`); entries go through it too so both sides compare in the same form.
function canonicalHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname.replace(/\.$/, '')
  } catch {
    return undefined
  }
}

function parseEntry(raw: string): AllowEntry | undefined {
  const entry = raw.trim().toLowerCase().replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/\/+$/, '')
  if (!entry) return undefined
  let hostPart = entry
  let port: number | undefined
  const bareIpv6 = !entry.startsWith('[') && entry.split(':').length > 2
  const withPort = /^(\[[^\]]*\]|[^:]*):(\d{1,5})$/.exec(entry)
  if (bareIpv6) hostPart = `[${entry}]`
  else if (withPort?.[1] && withPort[2]) {
    hostPart = withPort[1]
    port = Number(withPort[2])
  }
  const host = canonicalHost(hostPart)
  if (!host || (port !== undefined && port > 65535)) return undefined
  return { host, port, explicit: host === 'localhost' || isIpLiteral(host) }
}

const refuse = (code: IngestUrlErrorCode, message: string): IngestUrlCheck => ({ ok: false, code, message })

/**
 * Decides whether the server may fetch a user-given URL: http(s) only, no credentials, a host
 * on the allow-list, and (unless the matching entry names an IP address or `localhost`
 * explicitly) a host that neither is nor resolves to an internal address, so the server can't be
 * turned against its own network. yt-dlp resolves the name again later, so this narrows the
 * window for DNS rebinding rather than closing it; the allow-list is the real boundary.
 *
 * @example
 * ```ts
 * const check = await checkIngestUrl(body.url, { allowedHosts: config.ingest.allowedHosts })
 * if (!check.ok) return c.json({ error: { code: check.code, message: check.message } }, 400)
 * check.url // the parsed URL
 * ```
 */
export async function checkIngestUrl(input: unknown, options: IngestUrlOptions): Promise<IngestUrlCheck> {
  const listName = options.allowListName ?? DEFAULT_ALLOW_LIST_NAME
  if (typeof input !== 'string' || !input.trim()) {
    return refuse('invalid_url', 'url must be a non-empty string, such as https://www.youtube.com/watch?v=…')
  }
  let url: URL
  try {
    url = new URL(input.trim())
  } catch {
    const shown = input.length > 100 ? `${input.slice(0, 100)}…` : input
    return refuse('invalid_url', `${JSON.stringify(shown)} is not a valid URL; give a full URL such as https://www.youtube.com/watch?v=…`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse('unsupported_scheme', `scheme ${url.protocol} is not supported; use an http:// or https:// URL`)
  }
  if (url.username || url.password) {
    return refuse('invalid_url', 'URLs with a user name or password are not accepted; remove the "user:password@" part')
  }
  const hostname = url.hostname.replace(/\.$/, '')
  if (!hostname) return refuse('invalid_url', `${url.href} has no host`)
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
  const shownHost = url.port ? `${hostname}:${url.port}` : hostname

  const matches = options.allowedHosts
    .map(parseEntry)
    .filter((entry) => entry !== undefined && entry.host === hostname && (entry.port === undefined || entry.port === port))
  if (matches.length === 0) {
    return refuse(
      'host_not_allowed',
      `host ${shownHost} is not in ${listName}; add it there (comma-separated host or host:port) to ingest from it`,
    )
  }
  if (matches.some((entry) => entry?.explicit)) return { ok: true, url }

  let addresses: string[]
  try {
    addresses = await (options.resolve ?? defaultResolve)(hostname)
  } catch {
    // A listed name that resolves to nothing now reaches no internal address either; yt-dlp
    // resolves it again and the job then says why it failed (and an offline server still
    // takes the request instead of refusing every YouTube URL).
    return { ok: true, url }
  }
  for (const address of addresses) {
    const range = addressRange(address)
    if (range) {
      return refuse(
        'private_address',
        `host ${shownHost} resolves to ${address}, ${RANGE_NAMES[range]} address, and the server does not fetch internal addresses; ` +
          `to allow it on purpose, list it in ${listName} by IP address or as localhost`,
      )
    }
  }
  return { ok: true, url }
}
