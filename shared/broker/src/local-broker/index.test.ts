import { CloudEvent, HTTP } from 'cloudevents'
import { createEvent, eventType, PING_EVENT_TYPE } from '@ytrag/events'
import { afterAll, describe, expect, it } from 'vitest'
import { captureLogger, recorder } from '../../test/deliveries.ts'
import { removeTrigger, tempDirs } from '../../test/fixtures.ts'
import { readDeadLetterInfo } from '../dead-letter/index.ts'
import { knativeBaseDir, readBrokerWiring, type BrokerWiring, type DeliverySpec } from '../manifests/index.ts'
import { createLocalBroker, type LocalBroker } from './index.ts'

const dirs = tempDirs()
afterAll(dirs.cleanup)

const jobId = 'job-1'
const videoId = 'dQw4w9WgXcQ'
const discovered = (subject = videoId) =>
  createEvent('video.discovered', {
    function: 'discover',
    subject,
    data: { jobId, videoId: subject, url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', force: false },
  })
const transcriptReady = () =>
  createEvent('transcript.ready', {
    function: 'download',
    subject: videoId,
    data: { jobId, videoId, blobKey: 'transcripts/x.json', source: 'captions', language: 'en' },
  })
const indexed = () =>
  createEvent('video.indexed', { function: 'indexer', subject: videoId, data: { jobId, videoId, chunkCount: 3 } })

/** A one-type wiring for retry tests: `kind` delivers to `worker`. */
function wiringFor(delivery: DeliverySpec, extra: Partial<BrokerWiring> = {}): BrokerWiring {
  return {
    broker: { name: 'default', ...delivery },
    triggers: [{ name: 'worker-video-discovered', type: eventType('video.discovered'), subscriber: 'worker' }],
    ...extra,
  }
}

async function settle(broker: LocalBroker) {
  await broker.idle()
  return broker.stats()
}

describe('createLocalBroker routing', () => {
  it('delivers each event type to the subscriber its Trigger in knative/base names, in binary mode', async () => {
    const { deliveries, deliver } = recorder()
    const broker = createLocalBroker({
      wiring: readBrokerWiring(knativeBaseDir),
      deliver,
      logger: captureLogger().logger,
    })
    const ping = new CloudEvent({
      type: PING_EVENT_TYPE,
      source: '/apis/v1/namespaces/youtube-rag/pingsources/resync-schedule',
      data: { reason: 'scheduled-resync' },
    })
    const events = [
      createEvent('ingest.requested', {
        function: 'api',
        subject: jobId,
        data: { jobId, url: 'https://www.youtube.com/@channel', force: false },
      }),
      createEvent('channel.resync.requested', {
        function: 'discover',
        subject: 'UC1',
        data: { jobId: 'job-1', channelId: 'UC1', url: 'https://www.youtube.com/@channel', reason: 'manual' },
      }),
      ping,
      discovered(),
      createEvent('audio.segment.ready', {
        function: 'download',
        subject: videoId,
        data: { jobId, videoId, index: 0, count: 2, startSeconds: 0, durationSeconds: 60, blobKey: 'audio/0' },
      }),
      transcriptReady(),
      indexed(),
      createEvent('video.failed', {
        function: 'dead-letter',
        subject: videoId,
        data: { jobId, videoId, stage: 'download', reason: 'private video' },
      }),
    ]
    for (const event of events) await broker.send(event)
    expect(await settle(broker)).toMatchObject({ accepted: 8, delivered: 8, dropped: 0, retried: 0 })

    const routes = Object.fromEntries(deliveries.map((d) => [d.event.type, d.service]))
    expect(routes).toEqual({
      'io.youtube-rag.ingest.requested.v1': 'discover',
      'io.youtube-rag.channel.resync.requested.v1': 'discover',
      'dev.knative.sources.ping': 'discover',
      'io.youtube-rag.video.discovered.v1': 'download',
      'io.youtube-rag.audio.segment.ready.v1': 'transcribe',
      'io.youtube-rag.transcript.ready.v1': 'indexer',
      'io.youtube-rag.video.indexed.v1': 'api',
      'io.youtube-rag.video.failed.v1': 'api',
    })
    const download = deliveries.find((d) => d.service === 'download')!
    expect(download.url).toBe('http://download.local/')
    expect(download.headers.get('ce-id')).toBe(events[3]!.id)
    expect(download.event).toMatchObject({
      id: events[3]!.id,
      subject: videoId,
      source: '/functions/discover',
      data: events[3]!.data,
    })
  })

  it('returns from send before anything is delivered, and does not wait for a slow subscriber', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { deliveries, deliver } = recorder(async () => {
      await gate
      return new Response(null, { status: 200 })
    })
    const broker = createLocalBroker({ wiring: readBrokerWiring(knativeBaseDir), deliver })
    await broker.send(discovered())
    expect(deliveries).toHaveLength(0)
    // The subscriber is now stuck; sending more still returns at once.
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(deliveries).toHaveLength(1)
    await broker.send(discovered())
    let idle = false
    void broker.idle().then(() => (idle = true))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(idle).toBe(false)
    release()
    expect(await settle(broker)).toMatchObject({ accepted: 2, delivered: 2 })
  })

  it('drops (and logs) events whose Trigger was removed from the manifests; others still flow', async () => {
    const dir = dirs.copyOfKnativeBase()
    removeTrigger(dir, 'download-video-discovered')
    const { deliveries, deliver } = recorder()
    const { lines, logger } = captureLogger()
    const broker = createLocalBroker({ wiring: readBrokerWiring(dir), deliver, logger })
    await broker.send(discovered())
    await broker.send(transcriptReady())
    expect(await settle(broker)).toMatchObject({ accepted: 2, dropped: 1, delivered: 1 })
    expect(deliveries.map((d) => [d.service, d.event.type])).toEqual([['indexer', eventType('transcript.ready')]])
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: expect.stringContaining('io.youtube-rag.video.discovered.v1') }),
    )
  })

  it('fans an event out to every Trigger that takes its type, and to catch-all Triggers', async () => {
    const { deliveries, deliver } = recorder()
    const type = eventType('video.indexed')
    const wiring: BrokerWiring = {
      broker: { name: 'default', retry: 0, backoffPolicy: 'exponential', backoffDelayMs: 0 },
      triggers: [
        { name: 'api-video-indexed', type, subscriber: 'api' },
        { name: 'stats-video-indexed', type, subscriber: 'stats' },
        { name: 'audit-all', subscriber: 'audit' },
        { name: 'download-video-discovered', type: eventType('video.discovered'), subscriber: 'download' },
      ],
    }
    const broker = createLocalBroker({ wiring, deliver })
    const event = indexed()
    await broker.send(event)
    expect(await settle(broker)).toMatchObject({ accepted: 1, delivered: 3 })
    expect(deliveries.map((d) => d.service).sort()).toEqual(['api', 'audit', 'stats'])
    expect(deliveries.every((d) => d.event.id === event.id)).toBe(true)
  })
})

describe('createLocalBroker retries', () => {
  it('retries failures with exponential backoff, then succeeds', async () => {
    const { to, deliver } = recorder((_, n) =>
      n < 2
        ? new Response('busy', { status: 503 })
        : n === 2
          ? Promise.reject(new Error('socket hang up'))
          : new Response(null, { status: 202 }),
    )
    const broker = createLocalBroker({
      wiring: wiringFor({ retry: 3, backoffPolicy: 'exponential', backoffDelayMs: 20 }),
      deliver,
      logger: captureLogger().logger,
    })
    await broker.send(discovered())
    expect(await settle(broker)).toMatchObject({ delivered: 1, retried: 3, deadLettered: 0, failed: 0 })
    const at = to('worker').map((d) => d.at)
    expect(at).toHaveLength(4)
    const gaps = at.slice(1).map((t, i) => t - at[i]!)
    // 20, 40, 80 ms; timers may fire a little late, never (much) early.
    expect(gaps[0]).toBeGreaterThanOrEqual(19)
    expect(gaps[1]).toBeGreaterThanOrEqual(39)
    expect(gaps[2]).toBeGreaterThanOrEqual(79)
  })

  it('backs off linearly when the policy says so, scaled by backoffScale', async () => {
    const { to, deliver } = recorder((_, n) => new Response(null, { status: n < 2 ? 500 : 200 }))
    const broker = createLocalBroker({
      wiring: wiringFor({ retry: 2, backoffPolicy: 'linear', backoffDelayMs: 2000 }),
      deliver,
      backoffScale: 0.02,
      logger: captureLogger().logger,
    })
    await broker.send(discovered())
    expect(await settle(broker)).toMatchObject({ delivered: 1, retried: 2 })
    const at = to('worker').map((d) => d.at)
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(39) // 2000 ms × 1 × 0.02
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(79) // 2000 ms × 2 × 0.02
    expect(at[2]! - at[1]!).toBeLessThan(1000)
  })

  it("sends the event to the dead-letter sink with Knative's error attributes once retries run out", async () => {
    const { to, deliver } = recorder((d) =>
      d.service === 'dead-letter'
        ? new Response(null, { status: 200 })
        : new Response('yt-dlp failed:\nHTTP Error 403 — Forbidden', { status: 503 }),
    )
    const { lines, logger } = captureLogger()
    // The real wiring: 3 retries from 500 ms, scaled down to 5, 10, 20 ms.
    const broker = createLocalBroker({ wiring: readBrokerWiring(knativeBaseDir), deliver, logger, backoffScale: 0.01 })
    const event = discovered()
    await broker.send(event)
    expect(await settle(broker)).toMatchObject({ accepted: 1, delivered: 0, retried: 3, deadLettered: 1, failed: 0 })
    expect(to('download')).toHaveLength(4)
    const [dead] = to('dead-letter')
    expect(to('dead-letter')).toHaveLength(1)
    expect(dead!.url).toBe('http://dead-letter.local/')
    expect(dead!.event).toMatchObject({
      id: event.id,
      type: event.type,
      source: event.source,
      subject: videoId,
      data: event.data,
      knativeerrordest: 'http://download.local/',
      knativeerrorcode: '503',
    })
    // Knative base64-encodes the body, which keeps newlines and non-ASCII out of the headers.
    expect(Buffer.from(String(dead!.event.knativeerrordata), 'base64').toString('utf8')).toBe(
      'yt-dlp failed:\nHTTP Error 403 — Forbidden',
    )
    expect(readDeadLetterInfo(dead!.event)).toEqual({
      destination: 'http://download.local/',
      service: 'download',
      code: 503,
      data: 'yt-dlp failed:\nHTTP Error 403 — Forbidden',
    })
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(3)
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: expect.stringContaining('dead-letter sink') }),
    )
  })

  it('dead-letters a thrown error with its message and no status, truncating long bodies to 1024 bytes', async () => {
    const { to, deliver } = recorder((d) => {
      if (d.service === 'dead-letter') return new Response(null, { status: 200 })
      if (d.event.type === eventType('video.discovered')) throw new Error('connection refused')
      return new Response('x'.repeat(5000), { status: 500 })
    })
    const broker = createLocalBroker({
      wiring: wiringFor(
        { retry: 1, backoffPolicy: 'exponential', backoffDelayMs: 1, deadLetterSink: 'dead-letter' },
        {
          triggers: [
            { name: 'worker-video-discovered', type: eventType('video.discovered'), subscriber: 'worker' },
            { name: 'worker-video-indexed', type: eventType('video.indexed'), subscriber: 'worker' },
          ],
        },
      ),
      deliver,
      logger: captureLogger().logger,
    })
    await broker.send(discovered())
    await broker.send(indexed())
    expect(await settle(broker)).toMatchObject({ retried: 2, deadLettered: 2 })
    const byType = Object.fromEntries(to('dead-letter').map((d) => [d.event.type, readDeadLetterInfo(d.event)]))
    expect(byType[eventType('video.discovered')]).toEqual({
      destination: 'http://worker.local/',
      service: 'worker',
      data: 'connection refused',
    })
    expect(byType[eventType('video.indexed')]).toEqual({
      destination: 'http://worker.local/',
      service: 'worker',
      code: 500,
      data: 'x'.repeat(1024),
    })
  })

  it('does not retry a final answer such as 400, as Knative does not', async () => {
    const { to, deliver } = recorder(
      (d) =>
        new Response(d.service === 'dead-letter' ? null : 'invalid event', {
          status: d.service === 'dead-letter' ? 200 : 400,
        }),
    )
    const broker = createLocalBroker({
      wiring: wiringFor({ retry: 3, backoffPolicy: 'exponential', backoffDelayMs: 1, deadLetterSink: 'dead-letter' }),
      deliver,
      logger: captureLogger().logger,
    })
    await broker.send(discovered())
    expect(await settle(broker)).toMatchObject({ retried: 0, deadLettered: 1 })
    expect(to('worker')).toHaveLength(1)
    expect(readDeadLetterInfo(to('dead-letter')[0]!.event)).toMatchObject({ code: 400, data: 'invalid event' })
  })

  it('counts an event as failed when there is no dead-letter sink or the sink fails too', async () => {
    const { to, deliver } = recorder(() => new Response(null, { status: 500 }))
    const { lines, logger } = captureLogger()
    const noSink = createLocalBroker({
      wiring: wiringFor({ retry: 1, backoffPolicy: 'linear', backoffDelayMs: 1 }),
      deliver,
      logger,
    })
    await noSink.send(discovered())
    expect(await settle(noSink)).toMatchObject({ retried: 1, deadLettered: 0, failed: 1 })
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: expect.stringContaining('no dead-letter sink') }),
    )

    const failingSink = createLocalBroker({
      wiring: wiringFor({ retry: 0, backoffPolicy: 'linear', backoffDelayMs: 1, deadLetterSink: 'dead-letter' }),
      deliver,
      logger,
    })
    await failingSink.send(discovered())
    expect(await settle(failingSink)).toMatchObject({ deadLettered: 0, failed: 1 })
    expect(to('dead-letter')).toHaveLength(1) // once, never retried
  })

  it("uses a Trigger's own delivery instead of the Broker's", async () => {
    const { to, deliver } = recorder(() => new Response(null, { status: 500 }))
    const wiring: BrokerWiring = {
      broker: {
        name: 'default',
        retry: 3,
        backoffPolicy: 'exponential',
        backoffDelayMs: 1,
        deadLetterSink: 'dead-letter',
      },
      triggers: [
        {
          name: 'fragile',
          type: eventType('video.indexed'),
          subscriber: 'api',
          delivery: { retry: 1, backoffPolicy: 'linear', backoffDelayMs: 1, deadLetterSink: 'parking' },
        },
      ],
    }
    const broker = createLocalBroker({ wiring, deliver, logger: captureLogger().logger })
    await broker.send(indexed())
    await broker.idle()
    expect(to('api')).toHaveLength(2)
    expect(to('parking')).toHaveLength(1)
    expect(to('dead-letter')).toHaveLength(0)
  })
})

describe('createLocalBroker quiescence', () => {
  it('idle() waits for the events handlers emit during delivery, through the whole pipeline', async () => {
    let broker!: LocalBroker
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
    const { deliveries, deliver } = recorder(async (d) => {
      // Each stage works a little, emits through the broker, then answers 2xx.
      if (d.service === 'download') {
        await wait(20)
        await broker.send(transcriptReady())
      } else if (d.service === 'indexer') {
        await wait(20)
        await broker.send(indexed())
      }
      return new Response(null, { status: 200 })
    })
    broker = createLocalBroker({ wiring: readBrokerWiring(knativeBaseDir), deliver })
    expect(await Promise.race([broker.idle().then(() => 'idle'), wait(5).then(() => 'busy')])).toBe('idle')
    await broker.send(discovered())
    await broker.idle()
    expect(deliveries.map((d) => d.service)).toEqual(['download', 'indexer', 'api'])
    expect(broker.stats()).toMatchObject({ accepted: 3, delivered: 3 })
  })

  it('sends an event a subscriber replies with back into the broker, as Knative does', async () => {
    const { to, deliver } = recorder((d) => {
      if (d.service !== 'indexer') return new Response(null, { status: 204 })
      const reply = HTTP.binary(indexed())
      return new Response(reply.body as string, { status: 200, headers: reply.headers as Record<string, string> })
    })
    const broker = createLocalBroker({ wiring: readBrokerWiring(knativeBaseDir), deliver })
    await broker.send(transcriptReady())
    expect(await settle(broker)).toMatchObject({ accepted: 2, delivered: 2 })
    expect(to('api').map((d) => d.event.type)).toEqual([eventType('video.indexed')])
  })

  it('holds each subscriber to subscriberConcurrency, first sent first, without holding up the others', async () => {
    const running: Record<string, number> = {}
    const most: Record<string, number> = {}
    const started: string[] = []
    const { deliver } = recorder(async (d) => {
      const { service } = d
      running[service] = (running[service] ?? 0) + 1
      most[service] = Math.max(most[service] ?? 0, running[service]!)
      if (service === 'download') started.push(d.event.subject!)
      await new Promise((resolve) => setTimeout(resolve, service === 'download' ? 20 : 1))
      running[service]!--
      return new Response(null, { status: 200 })
    })
    const broker = createLocalBroker({ wiring: readBrokerWiring(knativeBaseDir), deliver, subscriberConcurrency: 2 })
    const subjects = Array.from({ length: 6 }, (_, i) => `video-${i}`)
    for (const subject of subjects) await broker.send(discovered(subject))
    for (let i = 0; i < 4; i++) await broker.send(transcriptReady())
    expect(await settle(broker)).toMatchObject({ delivered: 10 })
    expect(most).toEqual({ download: 2, indexer: 2 })
    expect(started).toEqual(subjects)
  })

  it("ends an attempt the subscriber does not answer within its Service's timeoutSeconds, frees its slot and retries it", async () => {
    let answered = false
    const { to, deliver } = recorder(async (d, n) => {
      if (n === 0) return new Promise<Response>(() => {}) // a handler that hangs
      answered = true
      expect(d.headers).toBeDefined()
      return new Response(null, { status: 202 })
    })
    const wiring: BrokerWiring = {
      broker: { name: 'default', retry: 2, backoffPolicy: 'linear', backoffDelayMs: 0 },
      triggers: [{ name: 'download-video-discovered', type: eventType('video.discovered'), subscriber: 'download' }],
      timeoutSeconds: { download: 0.2 },
    }
    const { logger, lines } = captureLogger()
    const broker = createLocalBroker({ wiring, deliver, logger, subscriberConcurrency: 1 })
    await broker.send(discovered('video-a'))
    await broker.send(discovered('video-b'))
    expect(await settle(broker)).toMatchObject({ delivered: 2, retried: 1 })
    expect(answered).toBe(true)
    expect(to('download').map((d) => d.event.subject)).toEqual(['video-a', 'video-b', 'video-a'])
    expect(JSON.stringify(lines)).toContain('download did not answer within its timeoutSeconds (0.2 s)')
  })

  it('close() refuses new events, waits for deliveries in flight and abandons pending retries', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const { to, deliver } = recorder(async (d) => {
      if (d.event.type === eventType('video.indexed')) {
        await gate
        return new Response(null, { status: 200 })
      }
      return new Response(null, { status: 503 })
    })
    const { logger } = captureLogger()
    // A 10 s backoff: close() must not sit it out, nor dead-letter what it abandons.
    const wiring: BrokerWiring = {
      broker: {
        name: 'default',
        retry: 3,
        backoffPolicy: 'linear',
        backoffDelayMs: 10_000,
        deadLetterSink: 'dead-letter',
      },
      triggers: [
        { name: 'download-video-discovered', type: eventType('video.discovered'), subscriber: 'download' },
        { name: 'api-video-indexed', type: eventType('video.indexed'), subscriber: 'api' },
      ],
    }
    const broker = createLocalBroker({ wiring, deliver, logger })
    await broker.send(discovered())
    await broker.send(indexed())
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(to('download')).toHaveLength(1) // now waiting out its backoff

    let closed = false
    const closing = broker.close().then(() => (closed = true))
    await expect(broker.send(indexed())).rejects.toThrow(/closed/)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(closed).toBe(false) // the api delivery is still in flight
    release()
    const started = performance.now()
    await closing
    expect(performance.now() - started).toBeLessThan(1000)
    expect(broker.stats()).toMatchObject({ accepted: 2, delivered: 1, retried: 1, abandoned: 1, deadLettered: 0 })
    expect(to('download')).toHaveLength(1)
    expect(to('dead-letter')).toHaveLength(0)
  })
})
