// The egress proxy: every request yt-dlp makes (the page, each redirect hop, meta-refresh
// targets, captions, media, thumbnails) goes through it with `--proxy`, so the allow-list and
// the private-address rule hold for all of them, not just for the URL a user gave.
//
// With an operator's proxy (YOUTUBE_RAG__YTDLP__PROXY) the checks stay here, on the target, and
// what is allowed leaves through that proxy: https as a CONNECT tunnel to the checked address
// (pinned, as a direct connection is), plain http in absolute-form. Node's own http client does
// both (CONNECT is a ClientRequest's 'connect' event): no proxy-agent package is needed, and none
// of the workspace's dependencies is one.
import {
  createServer,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type RequestOptions,
  type Server,
  type ServerResponse,
} from 'node:http'
import { request as httpsRequest } from 'node:https'
import { connect, isIPv4, type AddressInfo, type Socket } from 'node:net'
import { checkHost, type HostCheck, type IngestUrlOptions } from '../ingest-url/index.ts'

/** What the proxy refused, for logs and tests. */
export type EgressRefusal = { method: string; target: string; code: string; message: string }

export type EgressProxyOptions = IngestUrlOptions & {
  /** The most bytes one proxied response (or one CONNECT tunnel, both ways) may carry. Default 2 GB. */
  maxBytes?: number
  /** How long an upstream connection may stay silent. Default 60 s. */
  idleTimeoutMs?: number
  /** Called for each refusal (the function's logger). */
  onRefusal?: (refusal: EgressRefusal) => void
  /**
   * The operator's proxy, `http(s)://user:password@host:port` (YOUTUBE_RAG__YTDLP__PROXY): what
   * this proxy allows leaves through it instead of directly. See `upstreamProxy`.
   */
  upstream?: string
}

export type EgressProxy = {
  /** `http://127.0.0.1:<port>`, for yt-dlp's `--proxy`. */
  url: string
  /** Requests seen and refused so far. */
  stats: { requests: number; refused: number }
  close(): Promise<void>
}

// yt-dlp prints the status line's reason ("HTTP Error 403: <reason>"), so the reason says who
// refused and why; classifyFailure knows this prefix.
export const REFUSAL_PREFIX = 'refused by the egress guard'

// Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy's own, never sent on.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** A reason phrase may hold no control characters; keep it on one short line. */
const reasonPhrase = (message: string) => `${REFUSAL_PREFIX}: ${message}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 400)

/** `host:port` of a CONNECT request (IPv6 in brackets), or undefined when malformed. */
function parseAuthority(authority: string): { host: string; port: number } | undefined {
  try {
    const url = new URL(`http://${authority}/`)
    if (!url.port || url.username || url.password || url.pathname !== '/') return undefined
    return { host: url.hostname, port: Number(url.port) }
  } catch {
    return undefined
  }
}

/**
 * A proxy URL with its password replaced by `***`, for messages and logs.
 *
 * @example
 * redactProxyUrl('http://user:hunter2@proxy.example:3128') // 'http://user:***@proxy.example:3128'
 */
export function redactProxyUrl(value: string): string {
  try {
    const url = new URL(value)
    const user = url.username || url.password ? `${url.username}${url.password ? ':***' : ''}@` : ''
    return `${url.protocol}//${user}${url.host}`
  } catch {
    return '(an unreadable proxy URL)'
  }
}

/** How to reach the operator's proxy: its address, TLS or not, and the Proxy-Authorization it wants. */
type Upstream = { url: URL; shown: string; request: typeof httpRequest; authorization: string | undefined }

function upstreamProxy(value: string): Upstream {
  const url = new URL(value)
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`the upstream proxy ${redactProxyUrl(value)} is not http(s)://`)
  // Basic auth from the URL's userinfo, percent-decoded (a password may hold @ or :).
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined
  return {
    url,
    shown: redactProxyUrl(value),
    request: url.protocol === 'https:' ? (httpsRequest as unknown as typeof httpRequest) : httpRequest,
    authorization,
  }
}

/** Where the operator's proxy listens. */
const upstreamAddress = ({ url }: Upstream): RequestOptions => ({
  host: url.hostname.replace(/^\[|\]$/g, ''),
  port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
  ...(url.protocol === 'https:' ? { servername: url.hostname } : {}),
})

/** A status line's text, on one short printable line. */
const statusText = (message: string) => message.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)

/**
 * Starts the allow-listing forward proxy on loopback (an ephemeral port): CONNECT tunnels for
 * https and absolute-form requests for http. Each request's host is resolved here, every address
 * checked by `checkHost` (the one rule), and the connection made to a checked address, so a DNS
 * answer that changes between check and connect (rebinding) gains nothing. A refusal is a 403
 * whose reason phrase says why. Responses are cut off past `maxBytes`.
 *
 * @example
 * ```ts
 * const proxy = await startEgressProxy({ allowedHosts: ['www.youtube.com', '*.googlevideo.com'] })
 * execFile('yt-dlp', ['--proxy', proxy.url, url]) // every request of yt-dlp's is checked (runYtDlp does this)
 * ```
 */
export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const maxBytes = options.maxBytes ?? 2_000_000_000
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000
  const stats = { requests: 0, refused: 0 }
  // The operator's proxy, when set: what is allowed leaves through it (the checks stay here).
  const through = options.upstream ? upstreamProxy(options.upstream) : undefined

  const check = async (method: string, target: string, host: string, port: number): Promise<HostCheck> => {
    stats.requests += 1
    const checked = await checkHost(host, port, options)
    if (!checked.ok) {
      stats.refused += 1
      options.onRefusal?.({ method, target, code: checked.code, message: checked.message })
    }
    return checked
  }

  /** Joins a client to an established tunnel both ways, within `maxBytes` and the idle timeout. */
  function splice(client: Socket, clientHead: Buffer, socket: Socket, upstreamHead: Buffer) {
    let bytes = upstreamHead.length
    socket.setTimeout(idleTimeoutMs, () => socket.destroy())
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    if (upstreamHead.length) client.write(upstreamHead)
    if (clientHead.length) socket.write(clientHead)
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > maxBytes) {
        socket.destroy()
        client.destroy()
      }
    })
    socket.pipe(client)
    client.pipe(socket)
    socket.on('error', () => client.destroy())
    socket.on('close', () => client.destroy())
    client.on('close', () => socket.destroy())
  }

  async function forward(request: IncomingMessage, response: ServerResponse) {
    let url: URL
    try {
      url = new URL(request.url ?? '')
    } catch {
      stats.requests += 1
      stats.refused += 1
      response.writeHead(400, reasonPhrase('only absolute-form http:// requests and CONNECT are proxied')).end()
      return
    }
    if (url.protocol !== 'http:') {
      stats.requests += 1
      stats.refused += 1
      response.writeHead(400, reasonPhrase(`scheme ${url.protocol} is not proxied`)).end()
      return
    }
    const port = url.port ? Number(url.port) : 80
    const checked = await check(request.method ?? 'GET', url.href, url.hostname, port)
    if (!checked.ok) {
      response
        .writeHead(403, reasonPhrase(checked.message), { 'Content-Type': 'text/plain; charset=utf-8' })
        .end(`${checked.message}\n`)
      return
    }
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value
    }
    headers.host = url.host
    const upstream: ClientRequest = through
      ? // Absolute-form to the operator's proxy, by name: a proxy takes the Host from the request
        // line, so an address there would lose the site's virtual host. The name was checked here;
        // the operator's proxy looks it up again (plain http only; https tunnels stay pinned).
        through.request({
          ...upstreamAddress(through),
          method: request.method,
          path: url.href,
          headers: { ...headers, ...(through.authorization ? { 'proxy-authorization': through.authorization } : {}) },
          setHost: false,
        })
      : httpRequest({
          host: checked.addresses[0],
          port,
          method: request.method,
          path: `${url.pathname}${url.search}`,
          headers,
          // Pinned: the checked address, never a second lookup.
          setHost: false,
        })
    upstream.setTimeout(idleTimeoutMs, () => upstream.destroy(new Error(`no answer for ${idleTimeoutMs / 1000} s`)))
    upstream.on('response', (answer) => {
      const sent: Record<string, string | string[]> = {}
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) sent[name] = value
      }
      // A redirect to anything but http(s) would be followed by yt-dlp itself, past this proxy
      // (urllib follows http → ftp): refused here while it is still a response to look at.
      const location = answer.headers.location
      if (location && (answer.statusCode ?? 0) >= 300 && (answer.statusCode ?? 0) < 400) {
        let scheme: string | undefined
        try {
          scheme = new URL(location, url).protocol
        } catch {
          scheme = undefined
        }
        if (scheme !== 'http:' && scheme !== 'https:') {
          answer.destroy()
          stats.refused += 1
          const message = `a redirect from ${url.host} to ${JSON.stringify(location.slice(0, 100))}, which is not http(s)`
          options.onRefusal?.({
            method: request.method ?? 'GET',
            target: url.href,
            code: 'unsupported_scheme',
            message,
          })
          response.writeHead(403, reasonPhrase(message)).end()
          return
        }
      }
      const declared = Number(answer.headers['content-length'])
      if (Number.isFinite(declared) && declared > maxBytes) {
        answer.destroy()
        response
          .writeHead(502, reasonPhrase(`the answer from ${url.host} is ${declared} bytes, over the cap of ${maxBytes}`))
          .end()
        return
      }
      // A redirect is passed back as it is: yt-dlp follows it with a new request through here,
      // which is checked like the first.
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, sent)
      let bytes = 0
      answer.on('data', (chunk: Buffer) => {
        bytes += chunk.length
        if (bytes > maxBytes) {
          answer.destroy()
          response.destroy(new Error(`response from ${url.host} is over ${maxBytes} bytes`))
          return
        }
        response.write(chunk)
      })
      answer.on('end', () => response.end())
      answer.on('error', () => response.destroy())
    })
    upstream.on('error', (error) => {
      if (response.headersSent) response.destroy()
      else
        response
          .writeHead(
            502,
            statusText(
              `${through ? `the proxy ${through.shown} for ` : 'upstream '}${url.host} failed: ${error.message}`,
            ),
          )
          .end()
    })
    request.pipe(upstream)
  }

  /**
   * A tunnel to `address:port` through the operator's proxy: CONNECT to the checked address (the
   * TLS inside carries the site's name), so the proxy's own lookup never decides where it goes.
   * Gives the socket, or an HTTP status line saying why not.
   */
  function tunnelThrough(
    through: Upstream,
    address: string,
    port: number,
  ): Promise<{ socket: Socket; head: Buffer } | { refused: string }> {
    return new Promise((resolve) => {
      const authority = `${isIPv4(address) ? address : `[${address}]`}:${port}`
      const connectRequest = through.request({
        ...upstreamAddress(through),
        method: 'CONNECT',
        path: authority,
        headers: {
          host: authority,
          ...(through.authorization ? { 'proxy-authorization': through.authorization } : {}),
        },
        agent: false,
        setHost: false,
      })
      connectRequest.setTimeout(idleTimeoutMs, () =>
        connectRequest.destroy(new Error(`no answer for ${idleTimeoutMs / 1000} s`)),
      )
      connectRequest.once('connect', (answer, socket, head) => {
        connectRequest.setTimeout(0)
        if (answer.statusCode === 200) return resolve({ socket, head })
        socket.destroy()
        const credentials = answer.statusCode === 407 ? '; check the credentials in YOUTUBE_RAG__YTDLP__PROXY' : ''
        resolve({
          refused: `502 ${statusText(`the proxy ${through.shown} answered ${answer.statusCode} ${answer.statusMessage ?? ''} to CONNECT ${authority}${credentials}`)}`,
        })
      })
      connectRequest.once('response', (answer) => {
        answer.resume()
        resolve({
          refused: `502 ${statusText(`the proxy ${through.shown} answered ${answer.statusCode} to CONNECT ${authority}`)}`,
        })
      })
      connectRequest.once('error', (error) =>
        resolve({ refused: `502 ${statusText(`the proxy ${through.shown} failed: ${error.message}`)}` }),
      )
      connectRequest.end()
    })
  }

  async function tunnel(request: IncomingMessage, client: Socket, head: Buffer) {
    client.on('error', () => undefined)
    const target = parseAuthority(request.url ?? '')
    if (!target) {
      stats.requests += 1
      stats.refused += 1
      client.end(`HTTP/1.1 400 ${reasonPhrase(`malformed CONNECT target ${JSON.stringify(request.url)}`)}\r\n\r\n`)
      return
    }
    const checked = await check('CONNECT', request.url ?? '', target.host, target.port)
    if (!checked.ok) {
      client.end(`HTTP/1.1 403 ${reasonPhrase(checked.message)}\r\nContent-Length: 0\r\n\r\n`)
      return
    }
    if (through) {
      // An IPv4 address first: an operator's proxy may have no IPv6 route.
      const address = checked.addresses.find((candidate) => isIPv4(candidate)) ?? checked.addresses[0]!
      const tunnelled = await tunnelThrough(through, address, target.port)
      if ('refused' in tunnelled) {
        client.end(`HTTP/1.1 ${tunnelled.refused}\r\nContent-Length: 0\r\n\r\n`)
        return
      }
      splice(client, head, tunnelled.socket, tunnelled.head)
      return
    }
    const upstream = connect({ host: checked.addresses[0], port: target.port })
    let bytes = 0
    const count = (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > maxBytes) {
        upstream.destroy()
        client.destroy()
      }
    }
    upstream.setTimeout(idleTimeoutMs, () => upstream.destroy())
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) upstream.write(head)
      upstream.on('data', count)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', (error) => {
      if (upstream.connecting)
        client.end(
          `${`HTTP/1.1 502 upstream ${request.url} failed: ${error.message}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}\r\n\r\n`,
        )
      else client.destroy()
    })
    upstream.on('close', () => client.destroy())
    client.on('close', () => upstream.destroy())
  }

  const server: Server = createServer((request, response) => {
    forward(request, response).catch((error: unknown) => {
      if (!response.headersSent)
        response.writeHead(
          500,
          `egress proxy error: ${(error as Error).message}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 200),
        )
      response.end()
    })
  })
  server.on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => {
    tunnel(request, client, head).catch(() => client.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  // Started lazily and kept for the process's life; it must not keep a finished process alive.
  server.unref()
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const shared = new Map<string, Promise<EgressProxy>>()

/**
 * The process's proxy for an allow-list, started on first use (one per distinct allow-list: in a
 * deployment that is one; tests running several functions in one process get one each).
 *
 * @example
 * ```ts
 * const { url } = await egressProxyFor({ allowedHosts: [...config.ingest.allowedHosts, ...config.ingest.fetchHosts] })
 * ```
 */
export function egressProxyFor(options: EgressProxyOptions): Promise<EgressProxy> {
  const key = JSON.stringify([
    [...options.allowedHosts].sort(),
    options.maxBytes ?? null,
    options.allowListName ?? null,
    options.upstream ?? null,
  ])
  let proxy = shared.get(key)
  if (!proxy) {
    proxy = startEgressProxy(options)
    shared.set(key, proxy)
    proxy.catch(() => shared.delete(key))
  }
  return proxy
}
