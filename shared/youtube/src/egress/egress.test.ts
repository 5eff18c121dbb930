// The egress guard's two halves on loopback: the proxy yt-dlp goes through, and guardedFetch.
// A site on an allowed port, another on a port that is not, and real sockets throughout.
import { createServer, request, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { guardedFetch, GuardedFetchError } from './fetch.ts'
import { redactProxyUrl, startEgressProxy, type EgressProxy } from './proxy.ts'
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.ts'

type Site = { host: string; url(path: string): string; hits: string[]; server: Server }

async function startSite(handler: (path: string, answer: import('node:http').ServerResponse) => void): Promise<Site> {
  const hits: string[] = []
  const server = createServer((req, res) => {
    hits.push(req.url ?? '')
    handler(req.url ?? '', res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return { host, url: (path) => `http://${host}${path}`, hits, server }
}

let allowed: Site
let other: Site
beforeAll(async () => {
  other = await startSite((_path, res) => res.end('other'))
  allowed = await startSite((path, res) => {
    if (path === '/hop') return res.writeHead(302, { Location: '/final' }).end()
    if (path === '/loop') return res.writeHead(302, { Location: '/loop' }).end()
    if (path === '/to-file') return res.writeHead(302, { Location: 'file:///etc/passwd' }).end()
    if (path === '/to-other') return res.writeHead(307, { Location: other.url('/secret') }).end()
    if (path === '/big') return res.writeHead(200, { 'Content-Length': 5000 }).end('x'.repeat(5000))
    if (path === '/big-chunked') {
      res.writeHead(200)
      for (let i = 0; i < 10; i++) res.write('y'.repeat(1000))
      return res.end()
    }
    if (path === '/hang') return // never answers
    if (path === '/slow-body') {
      res.writeHead(200)
      res.write('a') // then nothing: a body that never ends
      return
    }
    res.end(`page ${path}`)
  })
})
afterAll(async () => {
  for (const site of [allowed, other]) {
    site.server.closeAllConnections()
    await new Promise<void>((resolve) => site.server.close(() => resolve()))
  }
})

/** A raw CONNECT through the guard, then (once through) one HTTP request inside the tunnel, to show it reaches the far side. */
const tunnel = (via: EgressProxy, target: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(Number(new URL(via.url).port), '127.0.0.1', () =>
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`),
    )
    let text = ''
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      if (text.startsWith('HTTP/1.1 200') && !text.includes('page'))
        socket.write(`GET /tunnelled HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`)
    })
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
  })

describe('guardedFetch', () => {
  const options = () => ({ allowedHosts: [allowed.host], timeoutMs: 1000, maxBytes: 2000, maxRedirects: 3 })
  const codeOf = async (path: string) =>
    ((await guardedFetch(allowed.url(path), options()).catch((error: unknown) => error)) as GuardedFetchError).code

  it('follows a redirect within the allowed host, checking each hop', async () => {
    expect(await guardedFetch(allowed.url('/hop'), options())).toMatchObject({
      status: 200,
      url: allowed.url('/final'),
      body: 'page /final',
    })
  })

  it('refuses a redirect off the allow-list without connecting to it', async () => {
    const before = other.hits.length
    const error = await guardedFetch(allowed.url('/to-other'), options()).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(GuardedFetchError)
    expect(error).toMatchObject({ code: 'host_not_allowed', url: other.url('/secret') })
    expect(other.hits.length).toBe(before)
  })

  it('stops at the hop limit, at a non-http scheme, past the size cap, and at the deadline', async () => {
    expect(await codeOf('/loop')).toBe('too_many_redirects')
    expect(await codeOf('/to-file')).toBe('unsupported_scheme')
    expect(await codeOf('/big')).toBe('too_large')
    expect(await codeOf('/big-chunked')).toBe('too_large')
    const started = Date.now()
    expect(await codeOf('/hang')).toBe('timeout')
    expect(await codeOf('/slow-body')).toBe('timeout')
    expect(Date.now() - started).toBeLessThan(4000)
  })
})

describe('the egress proxy', () => {
  let proxy: EgressProxy
  beforeAll(async () => {
    proxy = await startEgressProxy({ allowedHosts: [allowed.host], maxBytes: 3000 })
  })
  afterAll(() => proxy.close())

  /** An absolute-form GET through the proxy, as yt-dlp sends one for http:// URLs. */
  const viaProxy = (url: string) =>
    new Promise<{ status: number; reason: string; body: string }>((resolve, reject) => {
      const { port } = new URL(proxy.url)
      const req = request({ host: '127.0.0.1', port, path: url, headers: { host: new URL(url).host } }, (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => (body += chunk.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', body }))
        res.on('error', () => resolve({ status: res.statusCode ?? 0, reason: 'cut', body }))
      })
      req.on('error', reject)
      req.end()
    })

  it('passes a request to an allowed host, and a redirect back as it is (the next hop is checked on its own)', async () => {
    expect(await viaProxy(allowed.url('/page'))).toEqual({ status: 200, reason: 'OK', body: 'page /page' })
    expect((await viaProxy(allowed.url('/to-other'))).status).toBe(307)
  })

  it('refuses another port of the same address with a 403 saying why, and counts it', async () => {
    const before = { refused: proxy.stats.refused, hits: other.hits.length }
    const answer = await viaProxy(other.url('/secret'))
    expect(answer.status).toBe(403)
    expect(answer.reason).toBe(
      `refused by the egress guard: host ${other.host} is not in YOUTUBE_RAG__INGEST__ALLOWED_HOSTS; add it there (comma-separated host or host:port) to ingest from it`,
    )
    expect(proxy.stats.refused).toBe(before.refused + 1)
    expect(other.hits.length).toBe(before.hits)
  })

  it('refuses a response declared over its byte cap, and cuts one that grows past it', async () => {
    const big = await viaProxy(allowed.url('/big'))
    expect(big.status).toBe(502)
    expect(big.reason).toMatch(
      /^refused by the egress guard: the answer from 127\.0\.0\.1:\d+ is 5000 bytes, over the cap of 3000$/,
    )
    // Chunked, so no length up front: the connection is cut once 3000 bytes have passed.
    const cut = await viaProxy(allowed.url('/big-chunked')).catch((error: Error) => ({
      status: 0,
      reason: error.message,
      body: '',
    }))
    expect(cut.body.length).toBeLessThanOrEqual(3000)
  })

  it('tunnels CONNECT to an allowed host:port and refuses one that is not', async () => {
    expect(await tunnel(proxy, allowed.host)).toMatch(
      /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK[\s\S]*page \/tunnelled$/,
    )
    const before = other.hits.length
    expect(await tunnel(proxy, other.host)).toMatch(
      /^HTTP\/1\.1 403 refused by the egress guard: host 127\.0\.0\.1:\d+ is not in/,
    )
    expect(other.hits.length).toBe(before)
  })
})

describe("the egress proxy through the operator's proxy (YOUTUBE_RAG__YTDLP__PROXY)", () => {
  let upstream: RecordingProxy
  let proxy: EgressProxy
  const authorization = `Basic ${Buffer.from('operator:p@ss:word').toString('base64')}`
  beforeAll(async () => {
    upstream = await startRecordingProxy({ user: 'operator', password: 'p@ss:word' })
    proxy = await startEgressProxy({ allowedHosts: [allowed.host], upstream: upstream.url })
  })
  afterAll(async () => {
    await proxy.close()
    await upstream.close()
  })

  it('tunnels an allowed CONNECT through it, to the checked address, with basic auth from the URL', async () => {
    upstream.seen.length = 0
    expect(await tunnel(proxy, allowed.host)).toMatch(
      /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 OK[\s\S]*page \/tunnelled$/,
    )
    expect(upstream.seen).toEqual([{ method: 'CONNECT', target: allowed.host, authorization }])
  })

  it('sends a plain http request to it in absolute-form', async () => {
    upstream.seen.length = 0
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: new URL(proxy.url).port,
          path: allowed.url('/plain?x=1'),
          headers: { host: allowed.host },
        },
        (res) => {
          let body = ''
          res.on('data', (chunk: Buffer) => (body += chunk.toString()))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        },
      )
      req.on('error', reject)
      req.end()
    })
    expect(answer).toEqual({ status: 200, body: 'page /plain?x=1' })
    expect(upstream.seen).toEqual([{ method: 'GET', target: allowed.url('/plain?x=1'), authorization }])
  })

  it('still refuses a host off the allow-list itself: the operator proxy never hears of it', async () => {
    upstream.seen.length = 0
    expect(await tunnel(proxy, other.host)).toMatch(
      /^HTTP\/1\.1 403 refused by the egress guard: host 127\.0\.0\.1:\d+ is not in/,
    )
    expect(upstream.seen).toEqual([])
  })

  it('answers 502 naming the setting when the operator proxy refuses the credentials, and never says the password', async () => {
    const wrong = await startEgressProxy({
      allowedHosts: [allowed.host],
      upstream: upstream.url.replace('p%40ss%3Aword', 'hunter2'),
    })
    try {
      const answer = await tunnel(wrong, allowed.host)
      expect(answer).toMatch(
        /^HTTP\/1\.1 502 the proxy http:\/\/operator:\*\*\*@127\.0\.0\.1:\d+ answered 407 Proxy Authentication Required to CONNECT 127\.0\.0\.1:\d+; check the credentials in YOUTUBE_RAG__YTDLP__PROXY/,
      )
      expect(answer).not.toMatch(/hunter2|p@ss/)
    } finally {
      await wrong.close()
    }
  })

  it('redacts the password of a proxy URL for messages', () => {
    expect(redactProxyUrl('http://user:hunter2@proxy.example:3128')).toBe('http://user:***@proxy.example:3128')
    expect(redactProxyUrl('https://proxy.example')).toBe('https://proxy.example')
    expect(redactProxyUrl('not a url')).toBe('(an unreadable proxy URL)')
  })
})
