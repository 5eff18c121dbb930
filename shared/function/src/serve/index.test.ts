import { Agent, request } from 'node:http'
import { connect } from 'node:net'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { afterEach, describe, expect, it } from 'vitest'
import { type RunningServer, serveApp } from './index.ts'

let running: RunningServer | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/** An app that refuses a body over 64 kB with 413 once it has read that much (a chunked body has no length to refuse early). */
async function refusingServer(): Promise<number> {
  const app = new Hono()
  app.post('/', bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text('too large', 413) }), async (c) =>
    c.text(String((await c.req.arrayBuffer()).byteLength)),
  )
  running = await serveApp(app, { port: 0, hostname: '127.0.0.1', handleSignals: false })
  return running.port
}

/**
 * A client that sends `Connection: close` and a chunked body of `pieces` × 64 kB, `pauseMs`
 * apart, and reads nothing until it has written it all (its socket paused, so the answer waits in
 * the kernel): the client on a busy machine. A server that closes while the body still comes
 * makes the kernel answer the next piece with a reset, which throws away the unread answer.
 */
function slowClient(port: number, pieces: number, pauseMs: number): Promise<{ answer: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.pause()
    let answer = ''
    let error: string | undefined
    socket.on('data', (data: Buffer) => (answer += data.toString('latin1')))
    socket.on('error', (failure: NodeJS.ErrnoException) => (error ??= failure.code ?? failure.message))
    socket.on('close', () => resolve({ answer, ...(error ? { error } : {}) }))
    void (async () => {
      const write = (text: string | Buffer) =>
        new Promise<void>((done) => (socket.destroyed ? done() : socket.write(text, () => done())))
      await write('POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n')
      for (let i = 0; i < pieces && !socket.destroyed; i++) {
        await write(Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(64 * 1024, 0x61), Buffer.from('\r\n')]))
        await new Promise((done) => setTimeout(done, pauseMs))
      }
      await write('0\r\n\r\n')
      socket.resume()
    })()
  })
}

describe('serveApp: a refused body', () => {
  it('lets a client still writing read the 413, past the 500 ms a plain clean-up gives it', async () => {
    const port = await refusingServer()
    // 24 pieces 50 ms apart: the client writes for ~1.2 s after the answer went out.
    const { answer, error } = await slowClient(port, 24, 50)
    expect({ status: answer.slice(0, 12), error }).toEqual({ status: 'HTTP/1.1 413', error: undefined })
  })

  it('closes the connection once a client sends more than the drain allows', async () => {
    const port = await refusingServer()
    // 64 MB as fast as the socket takes it: the server reads 16 MB of it at most, then closes.
    const started = performance.now()
    const { error } = await slowClient(port, 1024, 0)
    expect(error).toMatch(/ECONNRESET|EPIPE/)
    expect(performance.now() - started).toBeLessThan(4000)
  })

  it('keeps a keep-alive connection serving once the refused body is read to its end', async () => {
    const port = await refusingServer()
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const post = (bytes: number) =>
      new Promise<{ status: number; body: string; socket: unknown }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent }, (res) => {
          let body = ''
          res.on('data', (data: Buffer) => (body += data.toString()))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket: req.socket }))
        })
        req.on('error', reject)
        req.end(Buffer.alloc(bytes, 0x61))
      })
    try {
      const refused = await post(1024 * 1024)
      const taken = await post(1000)
      expect([refused.status, taken.status, taken.body]).toEqual([413, 200, '1000'])
      expect(taken.socket).toBe(refused.socket)
    } finally {
      agent.destroy()
    }
  })
})
