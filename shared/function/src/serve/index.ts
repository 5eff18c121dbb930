import { serve, type ServerType } from '@hono/node-server'
import type { Hono } from 'hono'

export interface ServeOptions {
  port: number
  /** The address to listen on; every interface when unset. */
  hostname?: string
  /** Runs after the server stopped taking requests and finished the ones in flight. */
  onShutdown?: () => Promise<void>
  /** Installs SIGTERM/SIGINT handlers; off when several servers share a process under one owner. */
  handleSignals?: boolean
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
      { fetch: app.fetch, port: options.port, ...(options.hostname ? { hostname: options.hostname } : {}) },
      (info) => resolve({ server, port: info.port }),
    )
    server.once('error', reject)
  })
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
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
