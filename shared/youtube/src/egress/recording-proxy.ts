// For tests: an operator's proxy on loopback that records what reached it (each CONNECT and
// each absolute-form request, with its Proxy-Authorization) and then does its job, so a test sees
// both that the egress guard went through it and that the request still got where it was going.
import { createServer, request, type IncomingMessage, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

export type ProxiedRequest = { method: string; target: string; authorization: string | undefined }

export interface RecordingProxy {
  /** `http://user:password@127.0.0.1:<port>` with the credentials it wants. */
  url: string
  /** What reached it, in order. */
  seen: ProxiedRequest[]
  close(): Promise<void>
}

/**
 * Starts the proxy. It asks for `user:password` (407 otherwise, as a real one does) and forwards
 * to whatever it is asked for: the test's target sites are on loopback.
 *
 * @example
 * const upstream = await startRecordingProxy({ user: 'op', password: 'p@ss' })
 * // …the guard with { upstream: upstream.url } proxies a request…
 * expect(upstream.seen).toEqual([{ method: 'CONNECT', target: '127.0.0.1:4430', authorization: 'Basic …' }])
 */
export async function startRecordingProxy(credentials: { user: string; password: string }): Promise<RecordingProxy> {
  const seen: ProxiedRequest[] = []
  const expected = `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`
  const record = (message: IncomingMessage) => {
    const authorization = message.headers['proxy-authorization']
    seen.push({ method: message.method ?? '', target: message.url ?? '', authorization })
    return authorization === expected
  }
  const server: Server = createServer((message, response) => {
    if (!record(message))
      return response
        .writeHead(407, 'Proxy Authentication Required', { 'Proxy-Authenticate': 'Basic realm="test"' })
        .end()
    const url = new URL(message.url ?? '')
    const { 'proxy-authorization': _credentials, ...headers } = message.headers
    const forwarded = request(
      {
        host: url.hostname,
        port: url.port || 80,
        method: message.method,
        path: `${url.pathname}${url.search}`,
        headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.headers)
        answer.pipe(response)
      },
    )
    forwarded.on('error', () => response.writeHead(502).end())
    message.pipe(forwarded)
  })
  server.on('connect', (message: IncomingMessage, client: Socket, head: Buffer) => {
    client.on('error', () => undefined)
    if (!record(message))
      return client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
      )
    const { hostname, port } = new URL(`http://${message.url}/`)
    const target = connect(Number(port), hostname.replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) target.write(head)
      target.pipe(client)
      client.pipe(target)
    })
    target.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'))
    client.on('close', () => target.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`,
    seen,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
