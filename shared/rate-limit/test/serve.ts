// The middleware tests' server: an app on a loopback port the kernel picks, over real HTTP.
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'

/** Serves `app` on 127.0.0.1 and gives its base URL and a close. */
export async function serveOnLoopback(app: Hono): Promise<{ base: string; close: () => Promise<unknown> }> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  const { port } = server.address() as { port: number }
  return { base: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(done)) }
}
