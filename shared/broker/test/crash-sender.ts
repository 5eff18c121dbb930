// A broker in a process of its own, for the test that kills it with SIGKILL: it sends `count`
// video.discovered events through the Triggers of knative/base over a SQLite queue at `path`.
// `download` answers the even ones 503 (they wait out a backoff) and never answers the odd ones
// (they stay in flight). Prints the events' ids as one JSON line once every event reached
// `download`, then waits to be killed.
//
//   node --import tsx shared/broker/test/crash-sender.ts <path> <count>
import { createEvent } from '@ytrag/events'
import { SqliteDeliveryQueue } from '../src/delivery-queue/index.ts'
import { createLocalBroker } from '../src/local-broker/index.ts'
import { knativeBaseDir, readBrokerWiring } from '../src/manifests/index.ts'
import { toEvent } from './deliveries.ts'

const [path, countText] = process.argv.slice(2)
const count = Number(countText)
if (!path || !(count > 0)) throw new Error('usage: crash-sender.ts <path> <count>')

const ids: string[] = []
const reached = new Set<string>()
const broker = createLocalBroker({
  wiring: readBrokerWiring(knativeBaseDir),
  queue: new SqliteDeliveryQueue({ path }),
  logger: { info() {}, warn() {}, error: (obj, msg) => console.error(msg, obj) },
  async deliver(_service, request) {
    const { id } = await toEvent(request)
    reached.add(id)
    if (reached.size === count) process.stdout.write(`${JSON.stringify(ids)}\n`)
    if (ids.indexOf(id) % 2 === 0) return new Response('busy', { status: 503 })
    return new Promise<Response>(() => {})
  },
})

for (let i = 0; i < count; i++) {
  const videoId = `video${String(i).padStart(6, '0')}`
  const event = createEvent('video.discovered', {
    function: 'discover',
    subject: videoId,
    data: { jobId: 'job-crash', videoId, url: `https://www.youtube.com/watch?v=${videoId}`, force: false },
  })
  ids.push(event.id)
  await broker.send(event)
}
// Only the test's SIGKILL ends this process.
setInterval(() => {}, 60_000)
