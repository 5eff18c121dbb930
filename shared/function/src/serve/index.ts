import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { serve, type ServerType } from '@hono/node-server'
import type { Hono } from 'hono'
import { type IdleMemoryOptions, releaseMemoryWhenIdle } from '../idle-memory/index.ts'

/**
 * How long, and how much, of a request body left unread is still read and dropped after the
 * answer went out: a client still writing a body the server refused (413 mid-body) must get to
 * read the answer rather than meet a reset connection. Past either bound the socket is closed,
 * so a refused body costs the server at most this much.
 */
const LINGER = { ms: 5000, bytes: 16 * 1024 * 1024 }

/**
 * A lingering close (RFC 9112 §9.6) for a request whose body was not all read when its answer
 * finished. @hono/node-server's own clean-up drains for a fixed 500 ms, which a client on a busy
 * machine can miss; and on a connection that closes after the answer (the client sent
 * `Connection: close`), Node's `destroySoon` drops the socket at once, so the client's next write
 * gets a reset and, often, the answer is lost with it. Here the server half-closes instead (the
 * client sees the answer end), reads on within LINGER, then closes.
 */
function lingerOnUnreadBody(request: IncomingMessage, response: ServerResponse): void {
  if (request.method === 'GET' || request.method === 'HEAD') return
  const socket = request.socket
  const unread = () => !request.readableEnded && !request.destroyed
  let halfClosed = false
  const destroySoon = socket.destroySoon
  socket.destroySoon = function lingeringClose(this: typeof socket) {
    if (!unread()) return destroySoon.call(this)
    // Node's http server sockets allow half-open: reading goes on after end().
    halfClosed = true
    this.end()
  }
  response.once('finish', () => {
    if (!unread()) {
      socket.destroySoon = destroySoon
      return
    }
    let bytes = 0
    const close = () => socket.destroy()
    // Counted on the request: Node's parser reads the socket natively, past its 'data' events.
    const onData = (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > LINGER.bytes) close()
    }
    const timer = setTimeout(close, LINGER.ms)
    timer.unref()
    const done = () => {
      clearTimeout(timer)
      request.off('data', onData)
      socket.destroySoon = destroySoon
    }
    // What read the body so far (the web stream Hono read it through) would pause it again once
    // its own queue is full; as Node's own _dump() does, the rest goes to nobody but the count.
    request.removeAllListeners('data')
    request.on('data', onData)
    socket.once('close', done)
    request.once('end', () => {
      done()
      // The whole body is in and the answer was sent: nothing is left to wait for.
      if (halfClosed) socket.destroy()
    })
    // Dropped as it comes: Node's parser would otherwise pause the socket once the request's buffer is full.
    request.resume()
  })
}

export interface ServeOptions {
  port: number
  /** The address to listen on; every interface when unset. */
  hostname?: string
  /** Runs after the server stopped taking requests and finished the ones in flight. */
  onShutdown?: () => Promise<void>
  /** Installs SIGTERM/SIGINT handlers; off when several servers share a process under one owner. */
  handleSignals?: boolean
  /** Gives a burst's memory back once the process is idle (../idle-memory); off when unset. */
  idleMemory?: IdleMemoryOptions
}

export interface RunningServer {
  server: ServerType
  port: number
  close(): Promise<void>
}

/**
 * Serves a Hono app over HTTP and shuts it down gracefully: on SIGTERM (what Knative sends)
 * it stops accepting, lets requests in flight finish, then runs `onShutdown`.
 *
 * @example
 * ```ts
 * const running = await serveApp(app, { port: Number(process.env.PORT ?? 8080), onShutdown: () => stores.close() })
 * ```
 */
export async function serveApp(app: Hono, options: ServeOptions): Promise<RunningServer> {
  const { server, port } = await new Promise<{ server: ServerType; port: number }>((resolve, reject) => {
    // No hostname: every interface ('::', or 0.0.0.0 where IPv6 is off). A hostname, even an IP
    // literal, makes Node load its DNS module to look it up, a cold start's ~5 ms for nothing.
    const server = serve(
      {
        fetch: app.fetch,
        port: options.port,
        ...(options.hostname ? { hostname: options.hostname } : {}),
        // An unread body is drained by lingerOnUnreadBody instead, with bounds of our own.
        autoCleanupIncoming: false,
      },
      (info) => resolve({ server, port: info.port }),
    )
    server.on('request', lingerOnUnreadBody)
    server.once('error', reject)
  })
  const stopWatchingMemory = options.idleMemory ? releaseMemoryWhenIdle(server as Server, options.idleMemory) : () => {}
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      stopWatchingMemory()
      server.close(() => resolve())
      // Idle keep-alive sockets would hold close() open; in-flight requests still finish.
      if ('closeIdleConnections' in server) server.closeIdleConnections()
    }).then(() => options.onShutdown?.()))
  if (options.handleSignals ?? true) {
    const stop = (signal: string) => {
      process.stderr.write(`${signal} received: finishing requests in flight, then exiting\n`)
      void close().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    }
    process.on('SIGTERM', () => stop('SIGTERM'))
    process.on('SIGINT', () => stop('SIGINT'))
  }
  return { server, port, close }
}
