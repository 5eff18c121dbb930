import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { CloudEvent } from 'cloudevents'
import { createEvent } from '@ytrag/events'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDirs } from '../../test/fixtures.ts'
import { MemoryDeliveryQueue, SqliteDeliveryQueue, type DeliveryQueue } from './index.ts'

const dirs = tempDirs()
afterAll(dirs.cleanup)

const indexed = (videoId = 'v1') =>
  createEvent('video.indexed', { function: 'indexer', subject: videoId, data: { jobId: 'j1', videoId, chunkCount: 3 } })

const queues: Array<[string, () => DeliveryQueue]> = [
  ['MemoryDeliveryQueue', () => new MemoryDeliveryQueue()],
  ['SqliteDeliveryQueue', () => new SqliteDeliveryQueue({ path: join(dirs.empty(), 'broker.sqlite') })],
]

describe.each(queues)('%s', (_, open) => {
  it('queues one delivery per (Trigger, event source, event id) and gives them back oldest first', () => {
    const queue = open()
    const first = indexed()
    const second = indexed('v2')
    const added = queue.add([
      { trigger: 'api', event: first },
      { trigger: 'stats', event: first },
      { trigger: 'api', event: second },
    ])
    expect(added.map((d) => [d.trigger, d.event.id, d.attempts, d.nextAttemptAt, d.stage])).toEqual([
      ['api', first.id, 0, 0, 'subscriber'],
      ['stats', first.id, 0, 0, 'subscriber'],
      ['api', second.id, 0, 0, 'subscriber'],
    ])
    // The same event again for a Trigger that has it is absorbed; the same id from another source is another event.
    const again = queue.add([
      { trigger: 'api', event: first.cloneWith({ data: { jobId: 'j1', videoId: 'v1', chunkCount: 4 } }) },
      { trigger: 'api', event: first.cloneWith({ source: '/functions/other' }) },
    ])
    expect(again.map((d) => d.event.source)).toEqual(['/functions/other'])
    const listed = queue.list()
    expect(listed.map((d) => [d.trigger, d.event.id])).toEqual([
      ['api', first.id],
      ['stats', first.id],
      ['api', second.id],
      ['api', first.id],
    ])
    expect(listed.map((d) => d.seq)).toEqual([...listed.map((d) => d.seq)].sort((a, b) => a - b))
    expect(listed[0]!.event.data).toEqual(first.data)
    queue.close()
  })

  it('records attempts, the next attempt time and the dead-letter event; complete swaps a delivery for its replies', () => {
    const queue = open()
    const event = indexed()
    const [queued] = queue.add([{ trigger: 'api', event }])
    queue.retryLater(queued!.seq, 2, 1_700_000_000_123)
    expect(queue.list()[0]).toMatchObject({
      seq: queued!.seq,
      attempts: 2,
      nextAttemptAt: 1_700_000_000_123,
      stage: 'subscriber',
    })

    queue.toDeadLetter(queued!.seq, event.cloneWith({ knativeerrordest: 'http://api.local/', knativeerrorcode: '503' }))
    const [dead] = queue.list()
    expect(dead).toMatchObject({ stage: 'dead-letter', attempts: 2 })
    expect(dead!.event).toMatchObject({ id: event.id, knativeerrordest: 'http://api.local/', knativeerrorcode: '503' })

    const reply = indexed('v2')
    const replies = queue.complete(queued!.seq, [{ trigger: 'api', event: reply }])
    expect(replies.map((d) => d.event.id)).toEqual([reply.id])
    expect(queue.list().map((d) => d.event.id)).toEqual([reply.id])
    // A delivery that is over can be queued again: only a pending one absorbs duplicates.
    expect(queue.add([{ trigger: 'api', event }])).toHaveLength(1)
    queue.remove(replies[0]!.seq)
    expect(queue.list().map((d) => d.event.id)).toEqual([event.id])
    queue.close()
  })
})

describe('SqliteDeliveryQueue on disk', () => {
  it('gives a new connection every attribute of the event: data of each kind, time, extensions', () => {
    const path = join(dirs.empty(), 'broker.sqlite')
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const events = [
      createEvent('video.indexed', {
        function: 'indexer',
        subject: 'v1',
        data: { jobId: 'j1', videoId: 'v1', chunkCount: 3 },
        traceparent,
      }),
      new CloudEvent({
        type: 'dev.knative.sources.ping',
        source: '/apis/v1/namespaces/youtube-rag/pingsources/resync-schedule',
      }),
      new CloudEvent({ type: 'text', source: '/s', datacontenttype: 'text/plain', data: 'line one\nligne deux é' }),
      new CloudEvent({
        type: 'bytes',
        source: '/s',
        datacontenttype: 'application/octet-stream',
        data: new Uint8Array([0, 1, 255]),
      }),
      indexed().cloneWith({
        knativeerrordest: 'http://download.local/',
        knativeerrorcode: '503',
        knativeerrordata: Buffer.from('yt-dlp failed').toString('base64'),
      }),
    ]
    const writer = new SqliteDeliveryQueue({ path })
    writer.add(events.map((event) => ({ trigger: 't', event })))
    // Not closed: a crashed process does not close its handle either.
    const reader = new SqliteDeliveryQueue({ path })
    const read = reader.list().map((d) => d.event)
    expect(read.map((event) => event.toJSON())).toEqual(events.map((event) => event.toJSON()))
    expect(read[0]!.traceparent).toBe(traceparent)
    expect(read[3]!.data).toEqual(new Uint8Array([0, 1, 255]))
    writer.close()
    reader.close()
  })

  it('writes an add in one transaction: a delivery that cannot be written takes the others with it', () => {
    const path = join(dirs.empty(), 'broker.sqlite')
    const queue = new SqliteDeliveryQueue({ path })
    // JSON cannot hold a BigInt, so the second row fails after the first was inserted.
    const unwritable = new CloudEvent({ type: 't', source: '/s', data: { n: 1n } }, false)
    expect(() =>
      queue.add([
        { trigger: 'a', event: indexed() },
        { trigger: 'b', event: unwritable },
      ]),
    ).toThrow(/BigInt/)
    const second = new DatabaseSync(path, { readOnly: true })
    expect(second.prepare('SELECT count(*) AS n FROM deliveries').get()).toEqual({ n: 0 })
    second.close()
    expect(queue.list()).toEqual([])
    queue.close()
  })
})
