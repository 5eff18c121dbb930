// The local broker over a SqliteDeliveryQueue: what was accepted survives the process.
// A broker "dropped without close()" is one whose subscriber never answers, so it neither
// finishes nor touches its rows again, as a killed process would not; the last test kills a
// real process with SIGKILL.
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { HTTP } from 'cloudevents'
import { createEvent, eventType } from '@ytrag/events'
import { afterAll, describe, expect, it } from 'vitest'
import { captureLogger, recorder } from '../../test/deliveries.ts'
import { tempDirs } from '../../test/fixtures.ts'
import { MemoryDeliveryQueue, SqliteDeliveryQueue, type DeliveryQueue } from '../delivery-queue/index.ts'
import { readDeadLetterInfo } from '../dead-letter/index.ts'
import { knativeBaseDir, readBrokerWiring, type BrokerWiring, type DeliverySpec } from '../manifests/index.ts'
import { createLocalBroker, type LocalBrokerOptions } from './index.ts'

const dirs = tempDirs()
afterAll(dirs.cleanup)
const root = resolve(import.meta.dirname, '../../../..')

const jobId = 'job-1'
const discovered = (videoId = 'dQw4w9WgXcQ') =>
  createEvent('video.discovered', {
    function: 'discover',
    subject: videoId,
    data: { jobId, videoId, url: `https://www.youtube.com/watch?v=${videoId}`, force: false },
  })
const transcriptReady = (videoId = 'dQw4w9WgXcQ') =>
  createEvent('transcript.ready', {
    function: 'download',
    subject: videoId,
    data: { jobId, videoId, blobKey: 'transcripts/x.json', source: 'captions', language: 'en' },
  })
const indexed = (videoId = 'dQw4w9WgXcQ') =>
  createEvent('video.indexed', { function: 'indexer', subject: videoId, data: { jobId, videoId, chunkCount: 3 } })

/** A subscriber that never answers: the delivery stays in flight, as in a process about to be killed. */
const never = () => new Promise<Response>(() => {})
const gate = () => {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { open, opened }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((done) => setTimeout(done, 5))
  }
}

/** The queue's rows as a second connection sees them: what is on disk. */
function rowsOnDisk(path: string) {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    return db
      .prepare(
        'SELECT trigger_name AS trigger, event_id AS id, attempts, next_attempt_at AS nextAttemptAt, stage, event FROM deliveries ORDER BY seq',
      )
      .all() as Array<{
      trigger: string
      id: string
      attempts: number
      nextAttemptAt: number
      stage: string
      event: string
    }>
  } finally {
    db.close()
  }
}

const queueFile = () => join(dirs.empty(), 'broker.sqlite')

function brokerOver(path: string, options: Omit<LocalBrokerOptions, 'queue' | 'wiring'> & { wiring?: BrokerWiring }) {
  return createLocalBroker({
    wiring: readBrokerWiring(knativeBaseDir),
    logger: captureLogger().logger,
    ...options,
    queue: new SqliteDeliveryQueue({ path }),
  })
}

/** `video.discovered` to `worker`, with `delivery` on the Broker. */
const workerWiring = (delivery: DeliverySpec): BrokerWiring => ({
  broker: { name: 'default', ...delivery },
  triggers: [{ name: 'worker-video-discovered', type: eventType('video.discovered'), subscriber: 'worker' }],
})

describe('a local broker over a SqliteDeliveryQueue', () => {
  it('has every delivery of an event on disk, one row per Trigger, when send() resolves', async () => {
    const path = queueFile()
    const wiring: BrokerWiring = {
      broker: { name: 'default', retry: 0, backoffPolicy: 'linear', backoffDelayMs: 1 },
      triggers: [
        { name: 'api-video-indexed', type: eventType('video.indexed'), subscriber: 'api' },
        { name: 'stats-video-indexed', type: eventType('video.indexed'), subscriber: 'stats' },
      ],
    }
    const subscribers = gate()
    const broker = brokerOver(path, {
      wiring,
      deliver: async () => {
        await subscribers.opened
        return new Response(null, { status: 204 })
      },
    })
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const event = createEvent('video.indexed', {
      function: 'indexer',
      subject: 'v1',
      data: { jobId, videoId: 'v1', chunkCount: 3 },
      traceparent,
    })
    await broker.send(event)
    const rows = rowsOnDisk(path)
    expect(rows.map(({ trigger, id, attempts, stage }) => ({ trigger, id, attempts, stage }))).toEqual([
      { trigger: 'api-video-indexed', id: event.id, attempts: 0, stage: 'subscriber' },
      { trigger: 'stats-video-indexed', id: event.id, attempts: 0, stage: 'subscriber' },
    ])
    expect(JSON.parse(rows[0]!.event)).toMatchObject({
      id: event.id,
      source: '/functions/indexer',
      type: event.type,
      subject: 'v1',
      data: event.data,
      traceparent,
    })

    subscribers.open()
    expect(await broker.idle().then(broker.stats)).toMatchObject({ accepted: 1, delivered: 2 })
    expect(rowsOnDisk(path)).toEqual([])
    await broker.close()
  })

  it('removes a delivery on 2xx and queues the event the subscriber replied with in its place', async () => {
    const path = queueFile()
    const api = gate()
    const { to, deliver } = recorder(async (d) => {
      if (d.service === 'api') {
        await api.opened
        return new Response(null, { status: 204 })
      }
      const reply = HTTP.binary(indexed())
      return new Response(reply.body as string, { status: 200, headers: reply.headers as Record<string, string> })
    })
    const broker = brokerOver(path, { deliver })
    await broker.send(transcriptReady())
    await waitFor('the reply to reach api', () => to('api').length === 1)
    // The indexer's delivery is gone and the reply's is there: both in one transaction.
    expect(rowsOnDisk(path).map((row) => [row.trigger, row.id])).toEqual([
      ['api-video-indexed', to('api')[0]!.event.id],
    ])
    api.open()
    expect(await broker.idle().then(broker.stats)).toMatchObject({ accepted: 2, delivered: 2 })
    expect(rowsOnDisk(path)).toEqual([])
    await broker.close()
  })

  it('leaves what a broker dropped without close() was delivering to the next broker, which delivers each once as the Triggers say', async () => {
    const path = queueFile()
    const dropped = recorder(never)
    const first = brokerOver(path, { deliver: dropped.deliver })
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const events = [
      discovered(),
      transcriptReady(),
      indexed(),
      createEvent('video.indexed', {
        function: 'indexer',
        subject: 'v2',
        data: { jobId, videoId: 'v2', chunkCount: 1 },
        traceparent,
      }),
    ]
    for (const event of events) await first.send(event)
    await waitFor('every delivery to be in flight', () => dropped.deliveries.length === events.length)

    const { deliveries, deliver } = recorder()
    const second = brokerOver(path, { deliver })
    expect(await second.idle().then(second.stats)).toMatchObject({
      recovered: 4,
      accepted: 0,
      delivered: 4,
      retried: 0,
    })
    expect(deliveries.map((d) => [d.service, d.event.id])).toEqual([
      ['download', events[0]!.id],
      ['indexer', events[1]!.id],
      ['api', events[2]!.id],
      ['api', events[3]!.id],
    ])
    // Every attribute made it through the file, the trace context included.
    for (const [i, event] of events.entries()) {
      expect(deliveries[i]!.event).toMatchObject({
        id: event.id,
        source: event.source,
        type: event.type,
        subject: event.subject,
        time: event.time,
        data: event.data,
      })
    }
    expect(deliveries[3]!.event.traceparent).toBe(traceparent)
    expect(rowsOnDisk(path)).toEqual([])
    await second.close()
  })

  it("keeps a delivery's failed attempts across a restart: the dead-letter sink gets it after the Trigger's retries in total", async () => {
    const path = queueFile()
    const wiring = workerWiring({ retry: 3, backoffPolicy: 'linear', backoffDelayMs: 1, deadLetterSink: 'dead-letter' })
    // Two failures, then the process "dies" during the third attempt.
    const dropped = recorder((_, n) => (n < 2 ? new Response('busy', { status: 503 }) : never()))
    const first = brokerOver(path, { wiring, deliver: dropped.deliver })
    const event = discovered()
    await first.send(event)
    await waitFor('the third attempt', () => dropped.deliveries.length === 3)
    expect(rowsOnDisk(path).map((row) => row.attempts)).toEqual([2])

    const { to, deliver } = recorder(
      (d) =>
        new Response(d.service === 'dead-letter' ? null : 'still busy', {
          status: d.service === 'dead-letter' ? 200 : 503,
        }),
    )
    const second = brokerOver(path, { wiring, deliver })
    expect(await second.idle().then(second.stats)).toMatchObject({ recovered: 1, retried: 1, deadLettered: 1 })
    // 1 + 3 retries counted over both processes: attempts 3 and 4 here (the one cut short is tried again).
    expect(to('worker')).toHaveLength(2)
    expect(to('dead-letter')).toHaveLength(1)
    expect(readDeadLetterInfo(to('dead-letter')[0]!.event)).toEqual({
      destination: 'http://worker.local/',
      service: 'worker',
      code: 503,
      data: 'still busy',
    })
    expect(rowsOnDisk(path)).toEqual([])
    await second.close()
  })

  it('waits out after a restart the backoff the previous process had set', async () => {
    const path = queueFile()
    const wiring = workerWiring({ retry: 1, backoffPolicy: 'linear', backoffDelayMs: 400 })
    const dropped = recorder((_, n) => (n === 0 ? new Response(null, { status: 503 }) : never()))
    const first = brokerOver(path, { wiring, deliver: dropped.deliver })
    await first.send(discovered())
    await waitFor('the failure to be recorded', () => rowsOnDisk(path)[0]?.attempts === 1)
    const failedAt = dropped.deliveries[0]!.at

    const { deliveries, deliver } = recorder()
    const second = brokerOver(path, { wiring, deliver })
    expect(await second.idle().then(second.stats)).toMatchObject({ recovered: 1, delivered: 1 })
    const waited = deliveries[0]!.at - failedAt
    expect(waited).toBeGreaterThanOrEqual(390)
    expect(waited).toBeLessThan(2000)
    await second.close()
  })

  it('hands a delivery that failed for good to the dead-letter sink after a restart, never to the subscriber again', async () => {
    const path = queueFile()
    const wiring = workerWiring({ retry: 3, backoffPolicy: 'linear', backoffDelayMs: 1, deadLetterSink: 'dead-letter' })
    // 400 is final; the process dies while the dead-letter sink has the event.
    const dropped = recorder((d) => (d.service === 'worker' ? new Response('bad request', { status: 400 }) : never()))
    const first = brokerOver(path, { wiring, deliver: dropped.deliver })
    await first.send(discovered())
    await waitFor('the dead-letter delivery', () => dropped.to('dead-letter').length === 1)
    expect(rowsOnDisk(path).map((row) => row.stage)).toEqual(['dead-letter'])

    const { to, deliver } = recorder()
    const second = brokerOver(path, { wiring, deliver })
    expect(await second.idle().then(second.stats)).toMatchObject({ recovered: 1, deadLettered: 1, delivered: 0 })
    expect(to('worker')).toHaveLength(0)
    expect(readDeadLetterInfo(to('dead-letter')[0]!.event)).toEqual({
      destination: 'http://worker.local/',
      service: 'worker',
      code: 400,
      data: 'bad request',
    })
    expect(rowsOnDisk(path)).toEqual([])
    await second.close()
  })

  it('close() leaves the retries it abandons on disk, and the next broker delivers them', async () => {
    const path = queueFile()
    const wiring = workerWiring({
      retry: 3,
      backoffPolicy: 'linear',
      backoffDelayMs: 10_000,
      deadLetterSink: 'dead-letter',
    })
    const first = brokerOver(path, {
      wiring,
      backoffScale: 0.02,
      deliver: async () => new Response(null, { status: 503 }),
    })
    const event = discovered()
    await first.send(event)
    await waitFor('the first failure', () => first.stats().retried === 1)
    await first.close()
    expect(first.stats()).toMatchObject({ abandoned: 1 })
    expect(rowsOnDisk(path).map((row) => [row.id, row.attempts])).toEqual([[event.id, 1]])

    const { to, deliver } = recorder()
    const second = brokerOver(path, { wiring, backoffScale: 0.02, deliver })
    expect(await second.idle().then(second.stats)).toMatchObject({ recovered: 1, delivered: 1 })
    expect(to('worker').map((d) => d.event.id)).toEqual([event.id])
    await second.close()
  })

  it('keeps deliveries for a Trigger the manifests no longer have, and delivers them once it is back', async () => {
    const path = queueFile()
    const wiring = workerWiring({ retry: 0, backoffPolicy: 'linear', backoffDelayMs: 1 })
    const first = brokerOver(path, { wiring, deliver: never })
    await first.send(discovered())

    const { lines, logger } = captureLogger()
    const without = createLocalBroker({
      wiring: { ...wiring, triggers: [] },
      deliver: never,
      logger,
      queue: new SqliteDeliveryQueue({ path }),
    })
    expect(await without.idle().then(without.stats)).toMatchObject({ recovered: 0 })
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        obj: expect.objectContaining({ triggers: ['worker-video-discovered'] }),
      }),
    )
    await without.close()
    expect(rowsOnDisk(path)).toHaveLength(1)

    const { to, deliver } = recorder()
    const back = brokerOver(path, { wiring, deliver })
    expect(await back.idle().then(back.stats)).toMatchObject({ recovered: 1, delivered: 1 })
    expect(to('worker')).toHaveLength(1)
    await back.close()
  })
})

describe.each<[string, () => DeliveryQueue]>([
  ['MemoryDeliveryQueue', () => new MemoryDeliveryQueue()],
  ['SqliteDeliveryQueue', () => new SqliteDeliveryQueue({ path: queueFile() })],
])('a local broker over a %s', (_, open) => {
  it('delivers an event sent again with the same source and id once while the first is pending, and again once it is over', async () => {
    const subscriber = gate()
    const { to, deliver } = recorder(async () => {
      await subscriber.opened
      return new Response(null, { status: 204 })
    })
    const broker = createLocalBroker({ wiring: readBrokerWiring(knativeBaseDir), deliver, queue: open() })
    const event = discovered()
    await broker.send(event)
    await broker.send(event.cloneWith({}))
    subscriber.open()
    expect(await broker.idle().then(broker.stats)).toMatchObject({ accepted: 2, duplicates: 1, delivered: 1 })
    expect(to('download').map((d) => d.event.id)).toEqual([event.id])

    await broker.send(event)
    expect(await broker.idle().then(broker.stats)).toMatchObject({ accepted: 3, duplicates: 1, delivered: 2 })
    await broker.close()
  })
})

describe('a broker process killed with SIGKILL', () => {
  it('leaves every accepted event to the next broker over the same file, which delivers each once', async () => {
    const path = queueFile()
    const count = 20
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'shared/broker/test/crash-sender.ts'), path, String(count)],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    let errors = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (errors += chunk))
    const exited = new Promise<NodeJS.Signals | null>((done) => child.once('exit', (_, signal) => done(signal)))
    try {
      await waitFor(
        `the sender to reach every event (stderr: ${errors})`,
        () => output.includes('\n') || child.exitCode !== null,
        20_000,
      )
      const ids = JSON.parse(output) as string[]
      expect(ids).toHaveLength(count)
      // Half wait out a backoff after a 503, half are in flight.
      await waitFor(
        'the failures to be on disk',
        () => rowsOnDisk(path).filter((row) => row.attempts > 0).length === count / 2,
      )
      child.kill('SIGKILL')
      expect(await exited).toBe('SIGKILL')
      expect(rowsOnDisk(path).map((row) => row.id)).toEqual(ids)

      const { to, deliver } = recorder()
      const broker = createLocalBroker({
        wiring: readBrokerWiring(knativeBaseDir),
        deliver,
        logger: captureLogger().logger,
        queue: new SqliteDeliveryQueue({ path }),
      })
      expect(await broker.idle().then(broker.stats)).toMatchObject({
        recovered: count,
        delivered: count,
        retried: 0,
        deadLettered: 0,
        failed: 0,
      })
      expect(
        to('download')
          .map((d) => d.event.id)
          .sort(),
      ).toEqual([...ids].sort())
      expect(rowsOnDisk(path)).toEqual([])
      await broker.close()
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })
})
