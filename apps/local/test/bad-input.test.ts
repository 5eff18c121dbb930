// A corpus of bad input fired at the local server as `npm start` runs it (its own process):
// the public API and every function's CloudEvents endpoint. Each case must be answered with a
// 4xx and a JSON error.message (never a 5xx, which the broker would retry and a client would
// take for the server's fault), and the whole corpus, 100 MB bodies included, must leave the
// server's resident memory less than 50 MB larger.
import { createHash } from 'node:crypto'
import { request } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ERROR_CODES } from '@ytrag/function'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { residentBytes, startServerProcess, type ServerProcess } from './server-process.ts'

const KEY = 'corpus-key-0123456789'
/** What API__KEYS holds: the key's SHA-256, never the key. */
const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex')
const MB = 1024 * 1024

interface Case {
  name: string
  /** The function's internal address for events; the public API otherwise. */
  target: 'api' | { function: string }
  method: string
  path: string
  headers?: Record<string, string>
  /** A Buffer is sent as is; `chunked` sends it without content-length. */
  body?: string | Buffer
  chunked?: boolean
  /** The status the case must get. */
  status: number
}

interface RawAnswer {
  status: number
  body: string
}

/**
 * A raw HTTP/1.1 request: any Host, any bytes, chunked or not, which fetch would not all allow.
 * A large body goes in pieces and stops once the answer is in: the server answers 413 from the
 * headers and closes, and what a client could not write after that is no failure of the case.
 */
function send(base: string, testCase: Case): Promise<RawAnswer> {
  const url = new URL(testCase.path, base)
  const body = typeof testCase.body === 'string' ? Buffer.from(testCase.body, 'utf8') : testCase.body
  const headers: Record<string, string> = { ...testCase.headers }
  if (body && !testCase.chunked && headers['content-length'] === undefined)
    headers['content-length'] = String(body.length)
  return new Promise((resolve, reject) => {
    let answered = false
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: testCase.method,
        headers,
        agent: false,
      },
      (res) => {
        answered = true
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })
          req.destroy()
        })
        res.on('error', reject)
      },
    )
    let stop!: () => void
    const stopped = new Promise<void>((done) => (stop = done))
    req.once('response', () => stop())
    req.once('close', () => stop())
    req.on('error', (error) => {
      if (!answered) reject(error)
    })
    void (async () => {
      const piece = 64 * 1024
      // The headers first: a server that refuses by content-length answers before any body byte.
      req.flushHeaders()
      if (body && body.length > piece) await Promise.race([stopped, new Promise((done) => setTimeout(done, 200))])
      for (let offset = 0; body && offset < body.length && !answered && !req.destroyed; offset += piece) {
        // A pause between pieces lets an answer sent mid-body be read before the next write meets a closed socket.
        if (offset > 0) await new Promise((done) => setTimeout(done, 1))
        if (!req.write(body.subarray(offset, offset + piece))) {
          let drained!: () => void
          const drain = new Promise<void>((done) => {
            drained = done
            req.once('drain', done)
          })
          await Promise.race([drain, stopped])
          req.off('drain', drained)
        }
      }
      if (!answered && !req.destroyed) req.end()
    })()
  })
}

const json = { 'content-type': 'application/json' }
const authed = { ...json, authorization: `Bearer ${KEY}` }
const big = (bytes: number) => Buffer.alloc(bytes, 0x20)

/** The public API's cases. */
function apiCases(): Case[] {
  const cases: Case[] = []
  const api = (
    name: string,
    method: string,
    path: string,
    status: number,
    body?: string | Buffer,
    headers: Record<string, string> = authed,
    extra: Partial<Case> = {},
  ) =>
    cases.push({
      name,
      target: 'api',
      method,
      path,
      status,
      headers,
      ...(body === undefined ? {} : { body }),
      ...extra,
    })

  // Keys: none, unknown, malformed (keys are on in this server).
  for (const [method, path] of [
    ['GET', '/v1/videos'],
    ['POST', '/v1/search'],
    ['POST', '/v1/ask'],
    ['POST', '/v1/ingest'],
    ['GET', '/v1/jobs/x'],
    ['GET', '/v1/channels'],
    ['DELETE', '/v1/videos/x'],
    ['POST', '/v1/channels/x/sync'],
  ] as const) {
    api(`no key: ${method} ${path}`, method, path, 401, method === 'POST' ? '{}' : undefined, json)
  }
  for (const [label, headers] of [
    ['an unknown x-api-key', { 'x-api-key': 'not-a-key' }],
    ['a random key', { 'x-api-key': crypto.randomUUID() }],
    ['the key hash instead of the key', { 'x-api-key': hashApiKey(KEY) }],
    ['a 10 kB key', { 'x-api-key': 'k'.repeat(10_000) }],
    ['a key with a prefix of the real one', { 'x-api-key': KEY.slice(0, -1) }],
    ['Bearer without a token', { authorization: 'Bearer' }],
    ['Basic credentials', { authorization: `Basic ${Buffer.from(`u:${KEY}`).toString('base64')}` }],
    ['Bearer with two tokens', { authorization: `Bearer ${KEY} ${KEY}` }],
    ['a Token scheme', { authorization: `Token ${KEY}` }],
    ['a unicode key', { 'x-api-key': encodeURIComponent('ключ') }],
  ] as const) {
    api(`auth: ${label}`, 'POST', '/v1/search', 401, '{"query":"x"}', { ...json, ...headers })
  }

  // Bodies that are not JSON, or not the right JSON, on each JSON endpoint.
  const notJson: [string, string | Buffer][] = [
    ['an opening brace', '{'],
    ['a truncated object', '{"query":'],
    ['a single quote object', "{'query':'x'}"],
    ['a trailing comma', '{"query":"x",}'],
    ['a NUL byte', '\u0000'],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ['deeply nested arrays', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
  ]
  const wrongShape: [string, string][] = [
    ['null', 'null'],
    ['an array', '[]'],
    ['a string', '"text"'],
    ['a number', '42'],
    ['true', 'true'],
  ]
  for (const path of ['/v1/search', '/v1/ask', '/v1/ingest', '/v1/channels']) {
    for (const [label, body] of notJson) api(`${path}: ${label}`, 'POST', path, 400, body)
    for (const [label, body] of wrongShape) api(`${path}: ${label}`, 'POST', path, 400, body)
  }

  // Fields out of bounds.
  const search: [string, unknown][] = [
    ['no query', {}],
    ['a numeric query', { query: 42 }],
    ['an empty query', { query: '' }],
    ['a blank query', { query: '   ' }],
    ['a too-long query', { query: 'x'.repeat(2001) }],
    ['limit 0', { query: 'x', limit: 0 }],
    ['limit 51', { query: 'x', limit: 51 }],
    ['a fractional limit', { query: 'x', limit: 1.5 }],
    ['a string limit', { query: 'x', limit: '5' }],
    ['videoIds not an array', { query: 'x', filter: { videoIds: 'abc' } }],
    ['an unknown filter', { query: 'x', filter: { owner: 'me' } }],
    ['a bad publishedAfter', { query: 'x', filter: { publishedAfter: 'yesterday' } }],
    ['an empty video id', { query: 'x', filter: { videoIds: [''] } }],
    ['501 video ids', { query: 'x', filter: { videoIds: Array.from({ length: 501 }, (_, i) => `v${i}`) } }],
    ['a null filter', { query: 'x', filter: null }],
  ]
  for (const [label, body] of search) api(`/v1/search: ${label}`, 'POST', '/v1/search', 400, JSON.stringify(body))
  for (const [label, body] of [
    ['no question', {}],
    ['a too-long question', { question: 'q'.repeat(2001) }],
    ['limit 21', { question: 'q', limit: 21 }],
  ] as const)
    api(`/v1/ask: ${label}`, 'POST', '/v1/ask', 400, JSON.stringify(body))
  for (const [label, body] of [
    ['no url', {}],
    ['a numeric url', { url: 42 }],
    ['not a URL', { url: 'not a url' }],
    ['a javascript: URL', { url: 'javascript:alert(1)' }],
    ['a file: URL', { url: 'file:///etc/passwd' }],
    ['a host not allowed', { url: 'https://evil.example/watch?v=x' }],
    ['the metadata address', { url: 'http://169.254.169.254/latest/meta-data' }],
    ['a loopback address', { url: 'http://127.0.0.1:8000/v1/videos' }],
    ['a 1-letter language', { url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', language: 'e' }],
    ['a string force', { url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', force: 'yes' }],
  ] as const)
    api(`/v1/ingest: ${label}`, 'POST', '/v1/ingest', 400, JSON.stringify(body))
  for (const [label, body] of [
    ['a negative backfill', { url: 'https://www.youtube.com/@x', backfill: -1 }],
    ['a word backfill', { url: 'https://www.youtube.com/@x', backfill: 'some' }],
    ['a 1 s interval', { url: 'https://www.youtube.com/@x', intervalSeconds: 1 }],
    ['eleven languages', { url: 'https://www.youtube.com/@x', languages: Array.from({ length: 11 }, () => 'en') }],
  ] as const)
    api(`/v1/channels: ${label}`, 'POST', '/v1/channels', 400, JSON.stringify(body))

  // Cursors and query strings.
  const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  for (const [label, query] of [
    ['a garbage cursor', 'cursor=garbage'],
    ['a cursor of the wrong length', `cursor=${cursor(['2024-01-01T00:00:00.000Z'])}`],
    ['a cursor that is an object', `cursor=${cursor({ a: 1 })}`],
    ['a cursor of numbers', `cursor=${cursor([1, 2])}`],
    ['a cursor of invalid base64', 'cursor=%FF%FE'],
    ['limit 0', 'limit=0'],
    ['limit 101', 'limit=101'],
    ['a word limit', 'limit=abc'],
    ['a negative limit', 'limit=-1'],
    ['an empty channelId', 'channelId='],
  ] as const)
    api(`/v1/videos?: ${label}`, 'GET', `/v1/videos?${query}`, 400)

  // Ids and routes.
  for (const [label, method, path] of [
    ['an unknown job', 'GET', '/v1/jobs/no-such-job'],
    ['a 2000-character job id', 'GET', `/v1/jobs/${'j'.repeat(2000)}`],
    ['an unknown video', 'GET', '/v1/videos/no-such-video'],
    ['an encoded NUL video id', 'GET', '/v1/videos/%00'],
    ['a traversal video id', 'GET', '/v1/videos/..%2F..%2Fetc%2Fpasswd'],
    ['an unknown transcript', 'GET', '/v1/videos/nope/transcript'],
    ['deleting an unknown video', 'DELETE', '/v1/videos/nope'],
    ['an unknown channel', 'GET', '/v1/channels/UCnope'],
    ['deleting an unknown channel', 'DELETE', '/v1/channels/UCnope'],
    ['an unknown route', 'GET', '/v1/nothing-here'],
    ['PUT on search', 'PUT', '/v1/search'],
    ['GET on ingest', 'GET', '/v1/ingest'],
  ] as const)
    api(`ids: ${label}`, method, path, 404, method === 'PUT' ? '{"query":"x"}' : undefined)
  api('ids: syncing an unknown channel', 'POST', '/v1/channels/UCnope/sync', 404, '{}')

  // Media types and origins: what a web page could send from another site.
  for (const [label, type] of [
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
    ['text/json', 'text/json'],
  ] as const) {
    api(
      `media type: ingest as ${label}`,
      'POST',
      '/v1/ingest',
      415,
      '{"url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ"}',
      { authorization: `Bearer ${KEY}`, 'content-type': type },
    )
  }
  api(
    'media type: ingest without a content-type',
    'POST',
    '/v1/ingest',
    415,
    '{"url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ"}',
    { authorization: `Bearer ${KEY}` },
  )
  for (const [label, origin] of [
    ['another site', 'https://evil.example'],
    ['a look-alike of localhost', 'http://localhost.evil.example'],
    ['the null origin', 'null'],
    ['a LAN address', 'http://192.168.1.20:3000'],
  ] as const) {
    api(
      `origin: ingest from ${label}`,
      'POST',
      '/v1/ingest',
      403,
      '{"url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ"}',
      { ...authed, origin },
    )
  }
  api('origin: delete from another site', 'DELETE', '/v1/videos/x', 403, undefined, {
    ...authed,
    origin: 'https://evil.example',
  })
  api('origin: a cross-site fetch', 'POST', '/v1/search', 403, '{"query":"x"}', {
    ...authed,
    'sec-fetch-site': 'cross-site',
  })
  for (const host of ['evil.example', 'evil.example:8000', 'localhost.evil.example', 'rebind.attacker.test:80']) {
    api(`host: ${host}`, 'GET', '/v1/videos', 421, undefined, { ...authed, host })
  }

  // Sizes: refused before they are read.
  api(
    'size: a 300 kB search',
    'POST',
    '/v1/search',
    413,
    JSON.stringify({ query: 'x', filter: { videoIds: ['y'.repeat(300_000)] } }),
  )
  api('size: a 100 MB search', 'POST', '/v1/search', 413, big(100 * MB))
  api('size: a 5 MB chunked search', 'POST', '/v1/search', 413, big(5 * MB), authed, { chunked: true })
  api('size: a 100 MB ingest', 'POST', '/v1/ingest', 413, big(100 * MB))
  return cases
}

/** The CloudEvents cases, for one function's internal address. */
function eventCases(fn: string, acceptedType: string): Case[] {
  const cases: Case[] = []
  const event = (
    name: string,
    status: number,
    headers: Record<string, string>,
    body?: string | Buffer,
    extra: Partial<Case> = {},
  ) =>
    cases.push({
      name: `${fn}: ${name}`,
      target: { function: fn },
      method: 'POST',
      path: '/',
      status,
      headers,
      ...(body === undefined ? {} : { body }),
      ...extra,
    })
  const binary = (attributes: Record<string, string | undefined>) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    for (const [key, value] of Object.entries({
      'ce-id': 'id-1',
      'ce-source': '/corpus',
      'ce-type': acceptedType,
      'ce-specversion': '1.0',
      ...attributes,
    })) {
      if (value !== undefined) headers[key] = value
    }
    return headers
  }
  const structured = { 'content-type': 'application/cloudevents+json' }
  const envelope = {
    id: 'id-1',
    source: '/corpus',
    type: acceptedType,
    specversion: '1.0',
    datacontenttype: 'application/json',
    data: {},
  }

  event('not a CloudEvent', 400, json, '{"hello":"world"}')
  event('binary without id', 400, binary({ 'ce-id': undefined }), '{}')
  event('binary without source', 400, binary({ 'ce-source': undefined }), '{}')
  event('binary without type', 400, binary({ 'ce-type': undefined }), '{}')
  event('binary with an empty id', 400, binary({ 'ce-id': ' ' }), '{}')
  for (const version of ['0.1', '0.3', '9.9'])
    event(`binary specversion ${version}`, 400, binary({ 'ce-specversion': version }), '{}')
  event('binary data that is not JSON', 400, binary({}), '{"jobId":')
  event('binary data of the wrong shape', 400, binary({}), '  {"jobId": 5}')
  event('binary of an unknown type', 400, binary({ 'ce-type': 'io.youtube-rag.nothing.v1' }), '{}')
  for (const missing of ['id', 'source', 'type'] as const) {
    const { [missing]: _, ...rest } = envelope
    event(`structured without ${missing}`, 400, structured, JSON.stringify(rest))
  }
  event('structured specversion 0.3', 400, structured, JSON.stringify({ ...envelope, specversion: '0.3' }))
  event('structured body not JSON', 400, structured, '{"id":')
  event('structured body an array', 400, structured, JSON.stringify([envelope]))
  event('a batch', 400, { 'content-type': 'application/cloudevents-batch+json' }, JSON.stringify([envelope]))
  event('binary as text/plain', 415, binary({ 'content-type': 'text/plain' }), '{}')
  event('a foreign Host', 421, { ...binary({}), host: 'evil.example' }, '{}')
  event('a 300 kB event', 413, binary({}), JSON.stringify({ pad: 'p'.repeat(300_000) }))
  event('a 50 MB event', 413, binary({}), big(50 * MB))
  event('a 2 MB chunked event', 413, binary({}), big(2 * MB), { chunked: true })
  return cases
}

describe('bad input over HTTP (the server as npm start runs it)', () => {
  let server: ServerProcess
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ytrag-bad-input-'))
    server = await startServerProcess({
      YOUTUBE_RAG__STORAGE__DIR: dir,
      YOUTUBE_RAG__API__KEYS: hashApiKey(KEY),
      // The corpus is about bad input, not about the limiter: it must not answer 429 here.
      YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '100000',
      YOUTUBE_RAG__BROKER__PING_SCHEDULE: 'off',
    })
  }, 90_000)
  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers every case of the corpus with its 4xx and an error message, and stays within 50 MB', async () => {
    const urls = server.functionUrls()
    const accepted: Record<string, string> = {
      api: 'io.youtube-rag.video.indexed.v1',
      discover: 'io.youtube-rag.ingest.requested.v1',
      download: 'io.youtube-rag.video.discovered.v1',
      transcribe: 'io.youtube-rag.audio.segment.ready.v1',
      indexer: 'io.youtube-rag.transcript.ready.v1',
      'dead-letter': 'io.youtube-rag.video.discovered.v1',
    }
    const cases = [...apiCases(), ...Object.entries(accepted).flatMap(([fn, type]) => eventCases(fn, type))]
    // The public port serves neither the events endpoint nor the metrics.
    cases.push({
      name: 'public port: POST / (events)',
      target: 'api',
      method: 'POST',
      path: '/',
      status: 404,
      headers: { ...authed, 'ce-id': 'x', 'ce-source': '/x', 'ce-type': accepted.api!, 'ce-specversion': '1.0' },
      body: '{}',
    })
    cases.push({
      name: 'public port: /metrics',
      target: 'api',
      method: 'GET',
      path: '/metrics',
      status: 404,
      headers: authed,
    })
    expect(cases.length).toBeGreaterThanOrEqual(150)

    const pid = server.serverPid()
    const base = (target: Case['target']) => (target === 'api' ? server.base : urls[target.function]!)
    const before = residentBytes(pid)
    const wrong: string[] = []
    const statuses = new Map<number, number>()
    for (const testCase of cases) {
      const answer = await send(base(testCase.target), testCase).catch((error: Error) => ({
        status: 0,
        body: `no answer: ${error.message}`,
      }))
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
      let error: { code?: unknown; message?: unknown } | undefined
      try {
        error = (JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } }).error
      } catch {
        error = undefined
      }
      const known = (ERROR_CODES as readonly unknown[]).includes(error?.code)
      if (
        answer.status !== testCase.status ||
        !known ||
        typeof error?.message !== 'string' ||
        error.message.length < 5
      ) {
        wrong.push(`${testCase.name}: ${answer.status} ${answer.body.slice(0, 200)}`)
      }
    }
    // Eight 100 MB bodies at once, as in the issue.
    const hundred = big(100 * MB)
    const parallel = await Promise.all(
      Array.from({ length: 8 }, () =>
        send(server.base, {
          name: 'parallel',
          target: 'api',
          method: 'POST',
          path: '/v1/search',
          headers: authed,
          body: hundred,
          status: 413,
        }).catch((error: Error) => ({ status: 0, body: `no answer: ${error.message}` })),
      ),
    )
    for (const answer of parallel)
      if (answer.status !== 413) wrong.push(`parallel 100 MB: ${answer.status} ${answer.body.slice(0, 200)}`)
    const after = residentBytes(pid)
    const growth = after - before

    const total = cases.length + parallel.length
    const fourxx =
      [...statuses].filter(([status]) => status >= 400 && status < 500).reduce((sum, [, count]) => sum + count, 0) +
      parallel.filter((a) => a.status === 413).length
    process.stdout.write(
      `bad-input corpus: ${total} requests (${cases.length} cases + 8 parallel 100 MB), ${fourxx} answered 4xx, ` +
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}, server RSS ${(before / MB).toFixed(1)} -> ${(after / MB).toFixed(1)} MB (growth ${(growth / MB).toFixed(1)} MB)\n`,
    )
    expect(wrong, wrong.join('\n')).toEqual([])
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([])
    expect(growth).toBeLessThan(50 * MB)
    // The server still serves.
    expect((await server.call('GET', '/health/live')).status).toBe(200)
  }, 240_000)
})
