import { getHeapStatistics } from 'node:v8'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { type RunningServer, serveApp } from '../serve/index.ts'
import { type MemoryRelease, releaseMemoryWhenIdle } from './index.ts'

const IDLE_MS = 300
const MB = 1024 * 1024

let running: RunningServer | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

/**
 * What a burst of requests leaves: objects that lived long enough to be promoted to V8's old
 * generation (they survive the scavenges their own allocation causes), then died.
 */
function burst(megabytes: number): number {
  let kept: { index: number; text: string }[] = []
  for (let index = 0; index < megabytes * 10_000; index++) kept.push({ index, text: `text of chunk ${index}` })
  const count = kept.length
  kept = []
  return count
}

/** A server whose `/slow` answers after `?ms=`, `/burst` after allocating, and `/health/ready` at once. */
async function start(releases: MemoryRelease[]): Promise<string> {
  const app = new Hono()
  app.get('/burst', (c) => c.json({ objects: burst(40) }))
  app.get('/slow', async (c) => {
    await new Promise((resolve) => setTimeout(resolve, Number(c.req.query('ms'))))
    return c.json({ objects: burst(40) })
  })
  app.get('/health/ready', (c) => c.json({ status: 'ready' }))
  app.get('/metrics', (c) => c.text('# nothing'))
  running = await serveApp(app, {
    port: 0,
    hostname: '127.0.0.1',
    handleSignals: false,
    idleMemory: { idleMs: IDLE_MS, minGrowthBytes: 4 * MB, onRelease: (release) => releases.push(release) },
  })
  return `http://127.0.0.1:${running.port}`
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
async function until(condition: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms
  while (!condition() && performance.now() < deadline) await sleep(25)
}

describe('releaseMemoryWhenIdle', () => {
  it('gives a burst of requests’ memory back once, after the server has been idle', async () => {
    const releases: MemoryRelease[] = []
    const url = await start(releases)
    for (let i = 0; i < 3; i++) expect((await fetch(`${url}/burst`)).status).toBe(200)
    expect(releases).toHaveLength(0)
    await until(() => releases.length > 0, 10_000)
    expect(releases).toHaveLength(1)
    const [release] = releases
    expect(release!.heapAfter).toBeLessThan(release!.heapBefore)
    expect(release!.ms).toBeGreaterThan(0)
    // Idle on: nothing new to give back, nothing done.
    await sleep(IDLE_MS * 3)
    expect(releases).toHaveLength(1)
  })

  it('waits while requests keep coming, and for the one in flight', async () => {
    const releases: MemoryRelease[] = []
    const url = await start(releases)
    // Requests closer together than the idle time, then one that outlasts it.
    for (let i = 0; i < 4; i++) {
      await fetch(`${url}/burst`)
      await sleep(IDLE_MS / 3)
    }
    const slow = fetch(`${url}/slow?ms=${IDLE_MS * 3}`)
    await sleep(IDLE_MS * 2)
    expect(releases).toHaveLength(0)
    expect((await slow).status).toBe(200)
    await until(() => releases.length > 0, 10_000)
    expect(releases).toHaveLength(1)
  })

  it('counts probes and scrapes as no use: memory grown otherwise waits for a request', async () => {
    const releases: MemoryRelease[] = []
    const url = await start(releases)
    burst(40)
    for (let i = 0; i < 8; i++) {
      await fetch(`${url}/health/ready`)
      await fetch(`${url}/metrics`)
      await sleep(IDLE_MS / 2)
    }
    expect(releases).toHaveLength(0)
    await fetch(`${url}/slow?ms=0`)
    await until(() => releases.length > 0, 10_000)
    expect(releases).toHaveLength(1)
  })

  it('tells each listener once, however many servers it watches', async () => {
    const releases: MemoryRelease[] = []
    const url = await start(releases)
    const app = new Hono().get('/', (c) => c.text('ok'))
    const second = await serveApp(app, {
      port: 0,
      hostname: '127.0.0.1',
      handleSignals: false,
      idleMemory: { idleMs: IDLE_MS, minGrowthBytes: 4 * MB, onRelease: releases.push.bind(releases) },
    })
    const onRelease = (release: MemoryRelease) => releases.push(release)
    const third = await serveApp(app, {
      port: 0,
      hostname: '127.0.0.1',
      handleSignals: false,
      idleMemory: { idleMs: IDLE_MS, minGrowthBytes: 4 * MB, onRelease },
    })
    const fourth = await serveApp(app, {
      port: 0,
      hostname: '127.0.0.1',
      handleSignals: false,
      idleMemory: { idleMs: IDLE_MS, minGrowthBytes: 4 * MB, onRelease },
    })
    await fetch(`${url}/burst`)
    await until(() => releases.length >= 3, 10_000)
    await sleep(IDLE_MS * 2)
    // The first server's listener, the second's, and the one the third and fourth share.
    expect(releases).toHaveLength(3)
    await Promise.all([second.close(), third.close(), fourth.close()])
  })

  it('keeps the memory of a process that grew less than minGrowthBytes', async () => {
    const releases: MemoryRelease[] = []
    const app = new Hono().get('/', (c) => c.text('ok'))
    running = await serveApp(app, {
      port: 0,
      hostname: '127.0.0.1',
      handleSignals: false,
      idleMemory: {
        idleMs: IDLE_MS,
        minGrowthBytes: getHeapStatistics().heap_size_limit,
        onRelease: (release) => releases.push(release),
      },
    })
    await fetch(`http://127.0.0.1:${running.port}/`)
    await sleep(IDLE_MS * 3)
    expect(releases).toHaveLength(0)
  })

  it('is off at idleMs 0 and refuses a negative one', () => {
    const listeners: unknown[] = []
    const server = { on: (_event: string, listener: unknown) => listeners.push(listener), off() {} }
    releaseMemoryWhenIdle(server as never, { idleMs: 0 })()
    expect(listeners).toHaveLength(0)
    expect(() => releaseMemoryWhenIdle(server as never, { idleMs: -1 })).toThrow(RangeError)
  })
})
