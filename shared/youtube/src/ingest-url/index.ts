import { canonicalUrl, type CanonicalUrlOptions } from '../youtube-url/index.ts'
import { addressRange, isIpLiteral, type AddressRange } from './ip.ts'

export { addressRange, isIpLiteral, type AddressRange } from './ip.ts'

/** Why a URL was refused; the API answers 400 with this code. */
export type IngestUrlErrorCode = 'invalid_url' | 'unsupported_scheme' | 'host_not_allowed' | 'private_address'

/** Why a host was refused by `checkHost`: the URL codes, plus a name that resolves to nothing. */
export type HostErrorCode = 'host_not_allowed' | 'private_address' | 'unresolved'

/**
 * A host that may be reached, with every address it resolved to (each one checked): connect to
 * one of these, never resolve the name again, or a rebinding DNS server could swap in another.
 */
export type HostCheck = { ok: true; addresses: string[] } | { ok: false; code: HostErrorCode; message: string }

export type IngestUrlCheck =
  | {
      ok: true
      /** The URL to act on: the canonical form (see `canonicalUrl`), the given URL for other sites. */
      url: URL
      /** The YouTube video the URL names, when it names one. */
      videoId?: string
    }
  | { ok: false; code: IngestUrlErrorCode; message: string }

export type IngestUrlOptions = {
  /** Entries `host` (any port) or `host:port`, case-insensitive, IPv6 in brackets (`[::1]:4000`). */
  allowedHosts: readonly string[]
  /** Every address a host name resolves to. Default: `dns.lookup` with `all: true`. */
  resolve?: (host: string) => Promise<string[]>
  /** The setting that holds the allow-list, named in messages so users know what to change. */
  allowListName?: string
}

/** One entry of an allow-list, read: its canonical host, a port when it names one, and whether it is a `*.` wildcard. */
export type AllowEntry = { host: string; port: number | undefined; explicit: boolean; wildcard: boolean }

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

// node:dns/promises is imported on the first check, not at start-up: loading it is ~6 ms of a
// cold start, and most functions that import this module check no host until a request comes.
const defaultResolve = async (host: string) => {
  const { lookup } = await import('node:dns/promises')
  return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address)
}

// `URL` canonicalises hosts (lower case, punycode, `0x7f.1` → `127.0.0.1`, `[::0001]` →
// `[::1]`); entries go through it too so both sides compare in the same form.
function canonicalHost(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname.replace(/\.$/, '')
  } catch {
    return undefined
  }
}

/**
 * Reads one allow-list entry (`www.youtube.com`, `127.0.0.1:4000`, `https://Host/`, `*.cdn.example`)
 * as the ingest check does; undefined for one it cannot read.
 *
 * @example
 * parseAllowEntry('*.googlevideo.com') // { host: 'googlevideo.com', port: undefined, explicit: false, wildcard: true }
 */
export function parseAllowEntry(raw: string): AllowEntry | undefined {
  const entry = raw
    .trim()
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .replace(/\/+$/, '')
  if (!entry) return undefined
  // `*.googlevideo.com`: any subdomain (YouTube serves media from numbered hosts). Never explicit:
  // whatever such a name resolves to still has to be public.
  if (entry.startsWith('*.')) {
    const parsed = parseAllowEntry(entry.slice(2))
    return parsed && !isIpLiteral(parsed.host) ? { ...parsed, explicit: false, wildcard: true } : undefined
  }
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
  return { host, port, explicit: host === 'localhost' || isIpLiteral(host), wildcard: false }
}

const entryMatches = (entry: AllowEntry, hostname: string, port: number) =>
  (entry.wildcard ? hostname.endsWith(`.${entry.host}`) : entry.host === hostname) &&
  (entry.port === undefined || entry.port === port)

const refuse = (code: IngestUrlErrorCode, message: string): IngestUrlCheck => ({ ok: false, code, message })

/** The allow-list check of one URL's host, as `checkIngestUrl` answers it. */
async function checkUrlHost(url: URL, options: IngestUrlOptions): Promise<IngestUrlCheck | undefined> {
  const hostname = url.hostname.replace(/\.$/, '')
  if (!hostname) return refuse('invalid_url', `${url.href} has no host`)
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
  const shownHost = url.port ? `${hostname}:${url.port}` : hostname
  // An explicit entry is taken as it stands: nothing to resolve for a check that connects nowhere.
  const checked = await checkHost(hostname, port, options, shownHost, false)
  // A listed name that resolves to nothing now reaches no internal address either; whatever
  // fetches it later goes through the egress guard, which resolves it again and refuses then
  // (and an offline server still takes the request instead of refusing every YouTube URL).
  if (checked.ok || checked.code === 'unresolved') return undefined
  return refuse(checked.code, checked.message)
}

/**
 * Decides whether the server may fetch a user-given URL, and which URL it is: http(s) only, no
 * credentials, a host on the allow-list, and (unless the matching entry names an IP address or
 * `localhost` explicitly) a host that neither is nor resolves to an internal address, so the
 * server can't be turned against its own network. A YouTube URL in any of its forms is read as
 * its one canonical URL (`canonicalUrl`: a malformed video id is refused here), and both the
 * host given and the canonical URL's host must be allowed: the first is the user's, the second
 * the one fetched. This is the early answer to the user; what closes DNS rebinding is that
 * every actual fetch (the egress proxy for yt-dlp, guardedFetch for the server's own) applies
 * `checkHost` again and connects to the address it checked.
 *
 * @example
 * ```ts
 * const check = await checkIngestUrl(body.url, { allowedHosts: config.ingest.allowedHosts })
 * if (!check.ok) return c.json({ error: { code: check.code, message: check.message } }, 400)
 * check.url // https://www.youtube.com/watch?v=… for https://youtu.be/…?si=…
 * ```
 */
export async function checkIngestUrl(
  input: unknown,
  options: IngestUrlOptions & CanonicalUrlOptions,
): Promise<IngestUrlCheck> {
  if (typeof input !== 'string' || !input.trim()) {
    return refuse('invalid_url', 'url must be a non-empty string, such as https://www.youtube.com/watch?v=…')
  }
  let url: URL
  try {
    url = new URL(input.trim())
  } catch {
    const shown = input.length > 100 ? `${input.slice(0, 100)}…` : input
    return refuse(
      'invalid_url',
      `${JSON.stringify(shown)} is not a valid URL; give a full URL such as https://www.youtube.com/watch?v=…`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse('unsupported_scheme', `scheme ${url.protocol} is not supported; use an http:// or https:// URL`)
  }
  if (url.username || url.password) {
    return refuse('invalid_url', 'URLs with a user name or password are not accepted; remove the "user:password@" part')
  }
  const given = await checkUrlHost(url, options)
  if (given) return given
  const canonical = canonicalUrl(url, options.playlist === undefined ? {} : { playlist: options.playlist })
  if (!canonical.ok) return refuse('invalid_url', canonical.message)
  if (canonical.url.host !== url.host) {
    const fetched = await checkUrlHost(canonical.url, options)
    if (fetched) return fetched
  }
  return { ok: true, url: canonical.url, ...(canonical.videoId ? { videoId: canonical.videoId } : {}) }
}

/**
 * The one rule for every outbound connection (a user's URL, each hop of a redirect, every
 * request yt-dlp makes through the egress proxy): `hostname` (as `URL.hostname` gives it) and
 * `port` must match an allow-list entry, and every address the name resolves to must be public,
 * unless the matching entry names an IP address or `localhost` explicitly (then that host, and
 * only on that entry's port when it gives one, is meant). Gives the checked addresses to connect to.
 *
 * @example
 * ```ts
 * const checked = await checkHost('www.youtube.com', 443, { allowedHosts: config.ingest.allowedHosts })
 * if (checked.ok) net.connect(443, checked.addresses[0])
 * ```
 */
export async function checkHost(
  host: string,
  port: number,
  options: IngestUrlOptions,
  shown?: string,
  resolveExplicit = true,
): Promise<HostCheck> {
  const listName = options.allowListName ?? DEFAULT_ALLOW_LIST_NAME
  const hostname = (canonicalHost(host) ?? host.toLowerCase()).replace(/\.$/, '')
  const shownHost = shown ?? `${hostname}:${port}`
  const matches = options.allowedHosts
    .map(parseAllowEntry)
    .filter((entry) => entry !== undefined && entryMatches(entry, hostname, port))
  if (matches.length === 0) {
    return {
      ok: false,
      code: 'host_not_allowed',
      message: `host ${shownHost} is not in ${listName}; add it there (comma-separated host or host:port) to ingest from it`,
    }
  }
  const bare = hostname.replace(/^\[|\]$/g, '')
  const explicit = matches.some((entry) => entry?.explicit)
  if (explicit && isIpLiteral(hostname)) return { ok: true, addresses: [bare] }
  if (explicit && !resolveExplicit) return { ok: true, addresses: [] }

  let addresses: string[]
  try {
    addresses = isIpLiteral(hostname) ? [bare] : await (options.resolve ?? defaultResolve)(hostname)
  } catch (error) {
    return {
      ok: false,
      code: 'unresolved',
      message: `host ${hostname} could not be resolved (${(error as Error).message})`,
    }
  }
  if (addresses.length === 0)
    return { ok: false, code: 'unresolved', message: `host ${hostname} resolves to no address` }
  // `localhost` listed on purpose: whatever loopback address it has is meant.
  if (explicit) return { ok: true, addresses }
  for (const address of addresses) {
    const range = addressRange(address)
    if (range) {
      return {
        ok: false,
        code: 'private_address',
        message:
          `host ${shownHost} resolves to ${address}, ${RANGE_NAMES[range]} address, and the server does not fetch internal addresses; ` +
          `to allow it on purpose, list it in ${listName} by IP address or as localhost`,
      }
    }
  }
  return { ok: true, addresses }
}
