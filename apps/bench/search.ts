// How search scales on the embedded index, at each corpus size (default 10k and 100k chunks):
//
// - index build: chunks/s and CPU per chunk through the project's own ChunkIndex
//   (SqliteChunkIndex.replaceVideoChunks), against a raw insert of the same rows into the same
//   schema (the floor), in rounds that alternate which goes first;
// - ChunkIndex.search p50/p95/p99 on the calling thread and through the reader threads, against
//   a raw FTS5 `MATCH … ORDER BY bm25 … LIMIT` query with the same match expression on the same
//   file (the floor), interleaved query by query; natural-language questions and keyword queries;
// - /v1/search of the api function, bundled as its image runs it, at 1 and 32 clients, against
//   a Hono hello-world bundled the same way; the api's RSS before load, after load (twice) and
//   after idling.
//
// Every figure that depends on the machine is also given as a ratio to its floor, measured in
// the same run: what to compare across machines.
//
//   npm run bench:search                              # 10k and 100k chunks
//   BENCH_SEARCH_CHUNKS=2000 BENCH_SEARCH_SECONDS=1 BENCH_SEARCH_IDLE_S=2 npm run bench:search   # a quick smoke run
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { fileURLToPath } from 'node:url'
import { bundleEntry, bundleFunction, imageNodeEnv } from '../../scripts/images/bundle.mjs'
import { chunkId, type ChunkRecord, type SearchFilter } from '@ytrag/stores'
import { SqliteChunkIndex } from '@ytrag/stores/embedded'
import { seededRandom } from '@ytrag/transcript/testing'
import { toFtsQuery } from '../../shared/stores/src/chunks/query/index.ts'
import { heldWords } from '../../shared/stores/src/chunks/sqlite/query.ts'
import { analyzeQuery } from '../../shared/stores/src/chunks/text-analysis/index.ts'
import { quantile } from 'simple-statistics'

const root = fileURLToPath(new URL('../..', import.meta.url))
const sizes = (process.env.BENCH_SEARCH_CHUNKS ?? '10000,100000').split(',').map(Number)
const loadSeconds = Number(process.env.BENCH_SEARCH_SECONDS ?? 5)
const idleSeconds = Number(process.env.BENCH_SEARCH_IDLE_S ?? 30)
const work = mkdtempSync(join(tmpdir(), 'ytrag-bench-search-'))
const cores = availableParallelism()

// ---- a corpus that reads like transcripts: English stop words at their rates, a Zipf-distributed vocabulary
const STOP =
  'the and to of a i it in that you is was we this for on so they with but have be what are like just not do at there about one can all if as or my from he an out how when up'.split(
    ' ',
  )
const SYLLABLES = 'ka ri to mo na shi lu pe ver dan sol tre bar co mi lo gen tar vel stra pol quin'.split(' ')
const VOCABULARY = Array.from({ length: 20_000 }, (_, i) => {
  let word = ''
  for (let n = i + 1; n > 0; n = Math.floor(n / SYLLABLES.length)) word += SYLLABLES[n % SYLLABLES.length]
  return word
})
/** Zipf-like: rank r drawn with probability ∝ 1/r. */
const zipf = (random: () => number) =>
  VOCABULARY[Math.min(VOCABULARY.length - 1, Math.floor(Math.exp(random() * Math.log(VOCABULARY.length))) - 1)]!
const sentence = (random: () => number, length: number) =>
  Array.from({ length }, () => (random() < 0.45 ? STOP[Math.floor(random() * STOP.length)]! : zipf(random))).join(' ')

const CHUNKS_PER_VIDEO = 50
function videos(total: number): ChunkRecord[][] {
  const random = seededRandom(42)
  return Array.from({ length: Math.ceil(total / CHUNKS_PER_VIDEO) }, (_, v) => {
    const videoId = `video${v}`
    const title = sentence(random, 6)
    return Array.from({ length: CHUNKS_PER_VIDEO }, (_, i) => ({
      id: chunkId(videoId, i),
      videoId,
      chunkIndex: i,
      title,
      channelId: `UC${v % 20}`,
      publishedAt: new Date(Date.UTC(2020, 0, 1) + v * 86_400_000).toISOString(),
      url: `https://www.youtube.com/watch?v=${videoId}`,
      start: i * 30,
      end: i * 30 + 30,
      text: sentence(random, 110),
      ...(i % 10 === 0 ? { chapter: { title: sentence(random, 4), start: i * 30 } } : {}),
    }))
  })
}

const QUESTIONS = (count: number) => {
  const random = seededRandom(7)
  const forms = [
    'what did they say about %a and %b',
    'how does the %a work with %b',
    'why was the %a %b',
    'what is %a',
    'when did %a happen to the %b',
    'who built the %a',
  ]
  return Array.from({ length: count }, (_, i) =>
    forms[i % forms.length]!.replace('%a', zipf(random)).replace('%b', zipf(random)),
  )
}
const KEYWORDS = (count: number) => {
  const random = seededRandom(9)
  return Array.from({ length: count }, () => `${zipf(random)} ${zipf(random)}`)
}

// ---- figures
const percentile = (values: number[], p: number) => quantile(values, p / 100)
const ms = (value: number) => `${value.toFixed(3)} ms`
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`
const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
const cpuMs = () => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

// ---- index build, through the ChunkIndex and raw
const RAW_SCHEMA = (db: DatabaseSync) => {
  // The ChunkIndex makes the schema; the raw insert then writes the same tables directly.
  void new SqliteChunkIndex({ path: db.location()! }).close()
}
function buildRaw(path: string, data: ChunkRecord[][]): void {
  const db = new DatabaseSync(path)
  RAW_SCHEMA(db)
  const insertChunk = db.prepare(
    `INSERT INTO chunks (id, video_id, chunk_index, title, channel_id, published_at, url, start, end, text, chapter) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const insertText = db.prepare('INSERT INTO chunks_fts (rowid, text, title, chapter) VALUES (?, ?, ?, ?)')
  for (const chunks of data) {
    db.exec('BEGIN IMMEDIATE')
    for (const c of chunks) {
      const { lastInsertRowid } = insertChunk.run(
        c.id,
        c.videoId,
        c.chunkIndex,
        c.title,
        c.channelId ?? null,
        c.publishedAt ?? null,
        c.url,
        c.start,
        c.end,
        c.text,
        c.chapter ? JSON.stringify(c.chapter) : null,
      )
      insertText.run(BigInt(lastInsertRowid), c.text, c.title, c.chapter?.title ?? null)
    }
    db.exec('COMMIT')
  }
  db.close()
}
async function buildIndex(path: string, data: ChunkRecord[][]): Promise<void> {
  const index = new SqliteChunkIndex({ path })
  for (const chunks of data) await index.replaceVideoChunks(chunks[0]!.videoId, chunks)
  await index.close()
}

// ---- HTTP load
let agent = new Agent({ keepAlive: true, maxSockets: 64 })
function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/search',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume()
        response.on('end', () =>
          response.statusCode === 200
            ? resolve(performance.now() - started)
            : reject(new Error(`HTTP ${response.statusCode}`)),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
async function load(port: number, clients: number, queries: string[]): Promise<{ rps: number; p99: number }> {
  const latencies: number[] = []
  const deadline = performance.now() + loadSeconds * 1000
  let next = 0
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < deadline)
        latencies.push(await post(port, JSON.stringify({ query: queries[next++ % queries.length], limit: 10 })))
    }),
  )
  return { rps: latencies.length / loadSeconds, p99: percentile(latencies, 99) }
}
const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024

async function start(main: string, env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [main], {
    // The images' Node options and allocator, for the api and the hello-world alike.
    env: { PATH: process.env.PATH, PORT: '0', INTERNAL_PORT: '0', ...imageNodeEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${main} announced no port in 60 s:\n${output}`)), 60_000)
    child.once('exit', (code) => reject(new Error(`${main} exited with ${code}:\n${output}`)))
    child.stderr!.on('data', (data: Buffer) => (output += data.toString()))
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString()
      const found = /"port":(\d+)/.exec(output)?.[1]
      if (found) {
        clearTimeout(timer)
        resolve(Number(found))
      }
    })
  })
  return { child, port }
}

// ---- the run
console.log(
  `bench:search on ${cores} cores, sizes ${sizes.join(', ')}, ${loadSeconds} s per load run, ${idleSeconds} s idle; work in ${work}`,
)
const honoSource = join(work, 'hono-hello.ts')
writeFileSync(
  honoSource,
  `import { serve } from '@hono/node-server'
import { Hono } from 'hono'
const app = new Hono()
app.post('/v1/search', async (c) => c.json({ hits: [], query: (await c.req.json()).query }))
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 8080) }, (info) => console.log(JSON.stringify({ port: info.port, msg: 'listening' })))
`,
)
await bundleEntry(honoSource, join(work, 'hono'), { nodePaths: [join(root, 'shared/function/node_modules')] })
const api = await bundleFunction('api', join(work, 'api'))

for (const size of sizes) {
  console.log(`\n== ${size} chunks`)
  const data = videos(size)
  const chunks = data.reduce((total, video) => total + video.length, 0)

  // Build: alternate which goes first, so a warm page cache or a busy neighbour falls on both.
  const rounds = size <= 20_000 ? 2 : 1
  const cpu = { index: 0, raw: 0 }
  const wall = { index: 0, raw: 0 }
  const dir = join(work, `stores-${size}`)
  for (let round = 0; round < rounds; round++) {
    for (const kind of round % 2 === 0 ? (['raw', 'index'] as const) : (['index', 'raw'] as const)) {
      const file = join(work, `build-${kind}-${size}-${round}.sqlite`)
      const [startCpu, startWall] = [cpuMs(), performance.now()]
      if (kind === 'raw') buildRaw(file, data)
      else await buildIndex(file, data)
      cpu[kind] += cpuMs() - startCpu
      wall[kind] += performance.now() - startWall
      if (kind === 'index' && round === 0) {
        mkdirSync(dir, { recursive: true })
        rmSync(join(dir, 'chunks.sqlite'), { force: true })
        // The file the searches run on: built through the ChunkIndex.
        new DatabaseSync(file).exec(`VACUUM INTO '${join(dir, 'chunks.sqlite')}'`)
      }
      rmSync(file, { force: true })
      rmSync(`${file}-wal`, { force: true })
      rmSync(`${file}-shm`, { force: true })
    }
  }
  const perChunk = (total: number) => (total / rounds / chunks) * 1000
  console.log(
    `build   ChunkIndex ${Math.round((chunks * rounds) / (wall.index / 1000))} chunks/s, ${perChunk(cpu.index).toFixed(1)} µs CPU/chunk | raw insert ${Math.round((chunks * rounds) / (wall.raw / 1000))} chunks/s, ${perChunk(cpu.raw).toFixed(1)} µs CPU/chunk | CPU ratio ${ratio(cpu.index, cpu.raw)}`,
  )

  // Latency: the same match expression through the floor and the index, interleaved query by query.
  const file = join(dir, 'chunks.sqlite')
  const raw = new DatabaseSync(file, { readOnly: true })
  const floor = raw.prepare(
    'SELECT rowid, bm25(chunks_fts, 1, 0.5, 0.5) AS rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT 10',
  )
  const inThread = new SqliteChunkIndex({ path: file })
  const pooled = new SqliteChunkIndex({ path: file, searchThreads: cores })
  for (const [name, queries] of [
    ['questions', QUESTIONS(300)],
    ['keywords', KEYWORDS(300)],
  ] as const) {
    const times = { floor: [] as number[], index: [] as number[], pooled: [] as number[] }
    let matched = 0
    for (let pass = 0; pass < 2; pass++) {
      for (const text of queries) {
        const match = toFtsQuery(text)!
        let t = performance.now()
        const rows = floor.all(match)
        if (pass === 1) times.floor.push(performance.now() - t)
        t = performance.now()
        await inThread.search({ text, limit: 10 })
        if (pass === 1) times.index.push(performance.now() - t)
        t = performance.now()
        await pooled.search({ text, limit: 10 })
        if (pass === 1) times.pooled.push(performance.now() - t)
        if (pass === 1 && rows.length > 0) matched++
      }
    }
    const matches = raw
      .prepare('SELECT count(*) AS n FROM chunks_fts WHERE chunks_fts MATCH ?')
      .get(toFtsQuery(queries[0]!)!)!.n
    console.log(
      `search  ${name} (${matched}/${queries.length} find something; "${queries[0]}" matches ${matches} chunks)`,
    )
    for (const p of [50, 95, 99]) {
      const [f, i, o] = [percentile(times.floor, p), percentile(times.index, p), percentile(times.pooled, p)]
      console.log(
        `  p${p}  floor ${ms(f)} | ChunkIndex.search ${ms(i)} (${ratio(i, f)}) | through reader threads ${ms(o)} (${ratio(o, f)})`,
      )
    }
  }
  // The same questions without the stop-word analysis: what every search cost before it.
  const before = QUESTIONS(100).map((text) =>
    [...new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu))].map((word) => `"${word}"`).join(' OR '),
  )
  const beforeTimes = before.map((match) => {
    const t = performance.now()
    floor.all(match)
    return performance.now() - t
  })
  console.log(
    `  before (every word ORed): floor p50 ${ms(percentile(beforeTimes, 50))}, p95 ${ms(percentile(beforeTimes, 95))}`,
  )
  // existence: what every search now asks first, whether the index holds each word of the
  // question (a word no chunk has is widened), one FTS5 lookup a word; held words and absent
  // ones. Each pass on a connection that has not asked yet: a connection keeps its answers.
  const held = [...new Set(QUESTIONS(100).flatMap((text) => analyzeQuery(text).flatMap((term) => term.forms)))]
  for (const [label, list] of [
    ['held words', held],
    ['absent words', held.map((word) => `${word}zq`)],
  ] as const) {
    const passes: number[] = []
    for (let pass = 0; pass < 5; pass++) {
      const fresh = new DatabaseSync(file, { readOnly: true })
      const t = performance.now()
      heldWords(fresh, list)
      passes.push(((performance.now() - t) / list.length) * 1000)
      fresh.close()
    }
    console.log(
      `  existence, ${label}: ${percentile(passes, 50).toFixed(1)} µs a word (median of 5 passes over ${list.length})`,
    )
  }
  // Filtered: a broad filter (a quarter of the channels) and a narrow one (one video).
  const filters: [string, SearchFilter][] = [
    ['channel filter (4/20)', { channelIds: ['UC1', 'UC2', 'UC3', 'UC4'] }],
    ['video filter (1 video)', { videoIds: ['video3'] }],
  ]
  for (const [name, filter] of filters) {
    const times: number[] = []
    for (const text of QUESTIONS(100)) {
      const t = performance.now()
      await inThread.search({ text, limit: 10, filter })
      times.push(performance.now() - t)
    }
    console.log(`  ${name}: ChunkIndex.search p50 ${ms(percentile(times, 50))}, p95 ${ms(percentile(times, 95))}`)
  }
  raw.close()
  await inThread.close()
  await pooled.close()

  // /v1/search of the api function against a Hono hello-world, each alone on the machine.
  const queries = QUESTIONS(200)
  agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const hello = await start(join(work, 'hono', 'main.mjs'), {})
  const helloFigures = { one: await load(hello.port, 1, queries), many: await load(hello.port, 32, queries) }
  hello.child.kill('SIGKILL')
  const server = await start(join(api.out, 'main.mjs'), {
    YOUTUBE_RAG__STORAGE__DIR: dir,
    RATE_LIMIT__REQUESTS: '0',
    LOG_LEVEL: 'warn',
  })
  await post(server.port, JSON.stringify({ query: 'warm up', limit: 10 }))
  const rssBefore = rssOf(server.child.pid!)
  const one = await load(server.port, 1, queries)
  const many = await load(server.port, 32, queries)
  const rssAfter = rssOf(server.child.pid!)
  const again = await load(server.port, 32, queries)
  const rssAgain = rssOf(server.child.pid!)
  // The clients go away, as after a burst of traffic: idle keep-alive sockets would hold memory.
  agent.destroy()
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000))
  const rssIdle = rssOf(server.child.pid!)
  server.child.kill('SIGKILL')
  console.log(
    `/v1/search  1 client ${one.rps.toFixed(0)} req/s, p99 ${ms(one.p99)} | 32 clients ${many.rps.toFixed(0)} req/s, p99 ${ms(many.p99)} | 32 vs 1: ${ratio(many.rps, one.rps)}`,
  )
  console.log(`            32 clients again ${again.rps.toFixed(0)} req/s, p99 ${ms(again.p99)}`)
  console.log(
    `hono hello  1 client ${helloFigures.one.rps.toFixed(0)} req/s | 32 clients ${helloFigures.many.rps.toFixed(0)} req/s | /v1/search at 32 is ${ratio(many.rps, helloFigures.many.rps)} of it`,
  )
  console.log(
    `RSS (api)   before load ${MB(rssBefore)} | after load ${MB(rssAfter)} | after a second load ${MB(rssAgain)} | after ${idleSeconds} s idle ${MB(rssIdle)} (${ratio(rssIdle, rssBefore)} of before)`,
  )
}
rmSync(work, { recursive: true, force: true })
