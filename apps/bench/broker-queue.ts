// What the local broker's durable queue costs: the time to send() N events (each on disk when its
// send resolves) with the SQLite queue versus the memory one, and the time until every delivery
// is done (each 2xx deletes its row). The subscriber answers 204 at once, so this is the broker's
// own overhead, not a function's.
//
//   npm run bench:broker-queue -- [--events 1000] [--runs 5] [--dir /some/disk]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  createLocalBroker,
  knativeBaseDir,
  MemoryDeliveryQueue,
  readBrokerWiring,
  SqliteDeliveryQueue,
  type DeliveryQueue,
} from '@ytrag/broker'
import { createEvent } from '@ytrag/events'
import { median } from 'simple-statistics'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '5' },
    dir: { type: 'string', default: tmpdir() },
  },
})
const events = Number(values.events)
const runs = Number(values.runs)
const wiring = readBrokerWiring(knativeBaseDir)

async function run(queue: DeliveryQueue) {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  // Held until every send returned, so send() is timed alone, with no delivery deleting rows meanwhile.
  const broker = createLocalBroker({
    wiring,
    queue,
    deliver: async () => {
      await opened
      return new Response(null, { status: 204 })
    },
  })
  const batch = Array.from({ length: events }, (_, i) => {
    const videoId = `video${String(i).padStart(6, '0')}`
    return createEvent('video.discovered', {
      function: 'discover',
      subject: videoId,
      data: { jobId: 'bench', videoId, url: `https://www.youtube.com/watch?v=${videoId}`, force: false },
    })
  })
  const started = performance.now()
  for (const event of batch) await broker.send(event)
  const sent = performance.now()
  open()
  await broker.idle()
  const delivered = performance.now()
  await broker.close()
  return { sendMs: sent - started, deliverMs: delivered - sent }
}

const results = {
  memory: [] as Array<{ sendMs: number; deliverMs: number }>,
  sqlite: [] as Array<{ sendMs: number; deliverMs: number }>,
}
for (let i = 0; i < runs + 1; i++) {
  const dir = mkdtempSync(join(values.dir, 'ytrag-bench-broker-'))
  try {
    const memory = await run(new MemoryDeliveryQueue())
    const sqlite = await run(new SqliteDeliveryQueue({ path: join(dir, 'broker.sqlite') }))
    // The first round warms up the JIT and the file system; it is not counted.
    if (i === 0) continue
    results.memory.push(memory)
    results.sqlite.push(sqlite)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const row = (name: string, list: Array<{ sendMs: number; deliverMs: number }>) => {
  const send = median(list.map((r) => r.sendMs))
  const deliver = median(list.map((r) => r.deliverMs))
  console.log(
    `${name.padEnd(7)} send ${send.toFixed(1).padStart(8)} ms (${((send * 1000) / events).toFixed(1)} µs/event)   deliver until idle ${deliver.toFixed(1).padStart(8)} ms`,
  )
  return { send, deliver }
}
console.log(`${events} events, median of ${runs} runs, queue file under ${values.dir}`)
const memory = row('memory', results.memory)
const sqlite = row('sqlite', results.sqlite)
console.log(
  `sqlite / memory: send ×${(sqlite.send / memory.send).toFixed(1)}, deliver until idle ×${(sqlite.deliver / memory.deliver).toFixed(1)}`,
)
