// What scaling from zero costs each function, as its image runs it: each function is bundled by
// scripts/images/bundle.mjs, then started again and again with `node main.mjs` (this Node, empty
// embedded stores in a fresh folder, PORT=0), and timed from spawn to the first 200 on
// /health/ready; its resident memory is read from /proc at that moment. Two baselines are
// measured in the same rounds, interleaved with the functions so load on the machine falls on
// all alike: a bare node:http server, and a Hono hello-world bundled the same way as the
// functions. Every figure is also given as a ratio to the bare server (and to Hono), which is
// what to compare across machines. The CPU time each process used until it was ready (all its
// threads, from /proc/<pid>/task/*/schedstat) is the work a start does: unlike the wall time,
// it barely moves when other processes load the machine.
//
//   npm run bench:cold-start -- [--spawns 10] [--functions api,indexer] [--keep] [--no-compile-cache]
//
// Every target starts with V8's compile cache, as the images ship it (filled by one start of its
// own before the rounds; scripts/images/compile-cache.mjs); `--no-compile-cache` measures without.
//
// Also printed: what each start reads (main.mjs and the chunks it imports statically) against
// the chunks left for `import()` (adapters and SDKs a configuration may select), and each
// function's image size when `buildah images` has it (scripts/images/build.sh builds them).
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median } from 'simple-statistics'
import {
  bundleEntry,
  bundleFunction,
  functionNames,
  imageNodeEnv,
  loadGraph,
  type Metafile,
} from '../../scripts/images/bundle.mjs'
import { COMPILE_CACHE_DIR, fillCompileCache } from '../../scripts/images/compile-cache.mjs'

const root = fileURLToPath(new URL('../..', import.meta.url))
const { values } = parseArgs({
  options: {
    spawns: { type: 'string', default: '10' },
    functions: { type: 'string', default: functionNames().join(',') },
    keep: { type: 'boolean', default: false },
    'no-compile-cache': { type: 'boolean', default: false },
  },
})
const spawns = Number(values.spawns)
/** As the images start (they ship V8's compile cache, scripts/images/compile-cache.mjs), unless told not to. */
const compileCache = !values['no-compile-cache']
const functions = values.functions.split(',').filter(Boolean)
const work = mkdtempSync(join(tmpdir(), 'ytrag-bench-cold-'))

/** One thing started again and again: a bundle directory with its `main.mjs`, and its sizes. */
interface Target {
  name: string
  dir: string
  initialBytes: number
  totalBytes: number
  /** The chunks left for `import()`, by what they hold, largest first. */
  lazy: { name: string; bytes: number }[]
}

const MB = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`
const KB = (bytes: number) => `${Math.round(bytes / 1e3)} KB`

/** A chunk's name by the module it was split at: the package, or the workspace folder. */
function chunkName(metafile: Metafile, output: string): string {
  const entry = metafile.outputs[output]!.entryPoint
  if (!entry) return 'shared'
  const inPackage = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(entry)
  return inPackage ? inPackage[1]! : basename(entry.replace(/\/index\.ts$/, ''))
}

function describeBundle(name: string, dir: string, metafile: Metafile): Target {
  const entry = Object.keys(metafile.outputs).find(
    (output) => metafile.outputs[output]!.entryPoint !== undefined && output.endsWith('/main.mjs'),
  )!
  const graph = loadGraph(metafile, entry)
  const lazy = new Map<string, number>()
  for (const output of graph.lazy)
    lazy.set(
      chunkName(metafile, output),
      (lazy.get(chunkName(metafile, output)) ?? 0) + metafile.outputs[output]!.bytes,
    )
  return {
    name,
    dir,
    initialBytes: graph.initialBytes,
    totalBytes: graph.initialBytes + graph.lazyBytes,
    lazy: [...lazy].map(([chunk, bytes]) => ({ name: chunk, bytes })).sort((a, b) => b.bytes - a.bytes),
  }
}

// The baselines. Both print their port the way the functions log theirs: a JSON line with `port`,
// and exit on SIGTERM as the functions do (so Node writes their compile cache too).
const bareDir = join(work, 'bare')
mkdirSync(bareDir)
writeFileSync(
  join(bareDir, 'main.mjs'),
  `import { createServer } from 'node:http'
const server = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' })
  response.end('{"status":"ready"}')
})
server.listen(Number(process.env.PORT ?? 8080), () => console.log(JSON.stringify({ port: server.address().port, msg: 'listening' })))
process.once('SIGTERM', () => process.exit(0))
`,
)
const bareBytes = statSync(join(bareDir, 'main.mjs')).size
const honoSource = join(work, 'hono-hello.ts')
writeFileSync(
  honoSource,
  `import { serve } from '@hono/node-server'
import { Hono } from 'hono'
const app = new Hono()
app.get('/health/ready', (c) => c.json({ status: 'ready' }))
serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 8080) }, (info) => console.log(JSON.stringify({ port: info.port, msg: 'listening' })))
process.once('SIGTERM', () => process.exit(0))
`,
)

console.log(`bundling ${functions.join(', ')} and the Hono hello-world into ${work}`)
const targets: Target[] = [
  { name: 'bare node:http', dir: bareDir, initialBytes: bareBytes, totalBytes: bareBytes, lazy: [] },
]
// Hono and its server resolve from the function package, which depends on them.
const hono = await bundleEntry(honoSource, join(work, 'hono'), {
  nodePaths: [join(root, 'shared/function/node_modules')],
})
targets.push(describeBundle('hono hello', join(work, 'hono'), hono.metafile))
for (const name of functions) {
  const bundled = await bundleFunction(name, join(work, name))
  targets.push(describeBundle(name, bundled.out, bundled.metafile))
}
// Every target alike, the baselines too: each gets the cache its own first start writes.
if (compileCache) for (const target of targets) await fillCompileCache(target.dir)

/** Resident memory of a live process, from /proc (Linux), in bytes. */
const rssOf = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024

/** CPU time a live process has used, all its threads, in ms (the first field of schedstat is ns on a CPU). */
const cpuMsOf = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).reduce((total, task) => {
    try {
      return total + Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]) / 1e6
    } catch {
      return total // a thread that ended meanwhile
    }
  }, 0)

const readyStatus = (port: number) =>
  new Promise<number>((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/health/ready', agent: false }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('error', () => resolve(0))
  })

interface Sample {
  /** Spawn to the first 200 on /health/ready. */
  ms: number
  /** CPU time the process had used by then. */
  cpuMs: number
  rss: number
}

/** Spawns the target on empty embedded stores and times it until it is ready. */
async function startOnce(target: Target): Promise<Sample> {
  const stores = mkdtempSync(join(work, 'stores-'))
  const started = performance.now()
  const child = spawn(process.execPath, [join(target.dir, 'main.mjs')], {
    cwd: target.dir,
    // Only what a function's pod would set: never the developer's keys, which would select providers.
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      INTERNAL_PORT: '0',
      YOUTUBE_RAG__STORAGE__DIR: stores,
      // The images' Node options and allocator, for every target alike.
      ...imageNodeEnv(),
      ...(compileCache ? { NODE_COMPILE_CACHE: join(target.dir, COMPILE_CACHE_DIR) } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    // The port it was given, from the line it announces it on: polling starts once it listens.
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${target.name} announced no port in 30 s:\n${output}`)), 30_000)
      child.once('exit', (code) => reject(new Error(`${target.name} exited with ${code} before listening:\n${output}`)))
      child.stderr!.on('data', (data: Buffer) => (output += data.toString()))
      child.stdout!.on('data', (data: Buffer) => {
        output += data.toString()
        for (const line of output.split('\n')) {
          const port = /"port":(\d+)/.exec(line)?.[1]
          if (port) {
            clearTimeout(timer)
            resolve(Number(port))
          }
        }
      })
    })
    const deadline = started + 30_000
    while ((await readyStatus(port)) !== 200) {
      if (performance.now() > deadline) throw new Error(`${target.name} was not ready in 30 s:\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    const ms = performance.now() - started
    return { ms, cpuMs: cpuMsOf(child.pid!), rss: rssOf(child.pid!) }
  } finally {
    child.kill('SIGKILL')
    await exited
    rmSync(stores, { recursive: true, force: true })
  }
}

const samples = new Map(targets.map((target) => [target.name, [] as Sample[]]))
// Round 0 warms the page cache and is not counted. Each round starts one further along the list,
// so no target is always first (or always right after the heaviest).
for (let round = 0; round <= spawns; round++) {
  for (let i = 0; i < targets.length; i++) {
    const target = targets[(i + round) % targets.length]!
    const sample = await startOnce(target)
    if (round > 0) samples.get(target.name)!.push(sample)
  }
  process.stdout.write(round === 0 ? 'warm-up done; rounds: ' : `${round} `)
}
process.stdout.write('\n\n')

const sorted = (list: number[]) => [...list].sort((a, b) => a - b)
const stats = new Map(
  targets.map((target) => {
    const list = samples.get(target.name)!
    const ms = sorted(list.map((sample) => sample.ms))
    return [
      target.name,
      {
        min: ms[0]!,
        median: median(ms),
        max: ms.at(-1)!,
        cpu: median(list.map((sample) => sample.cpuMs)),
        rss: median(list.map((sample) => sample.rss)),
      },
    ]
  }),
)
const bare = stats.get('bare node:http')!
const honoStats = stats.get('hono hello')!

console.log(
  `spawn → first 200 on /health/ready, ${spawns} spawns each, interleaved, ${compileCache ? 'with' : 'without'} V8's compile cache; ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)}`,
)
console.log(
  `${'target'.padEnd(16)}${'min ms'.padStart(8)}${'median'.padStart(8)}${'max'.padStart(8)}${'×bare'.padStart(7)}${'×hono'.padStart(7)}` +
    `${'CPU ms'.padStart(8)}${'×bare'.padStart(7)}${'RSS MB'.padStart(8)}${'×bare'.padStart(7)}   read at start / all chunks`,
)
for (const target of targets) {
  const { min, median, max, cpu, rss } = stats.get(target.name)!
  console.log(
    `${target.name.padEnd(16)}${min.toFixed(0).padStart(8)}${median.toFixed(0).padStart(8)}${max.toFixed(0).padStart(8)}` +
      `${(median / bare.median).toFixed(2).padStart(7)}${(median / honoStats.median).toFixed(2).padStart(7)}` +
      `${cpu.toFixed(0).padStart(8)}${(cpu / bare.cpu).toFixed(2).padStart(7)}` +
      `${(rss / 1e6).toFixed(1).padStart(8)}${(rss / bare.rss).toFixed(2).padStart(7)}   ${MB(target.initialBytes)} / ${MB(target.totalBytes)}`,
  )
}

console.log(`\ntargets (issue 13): median ≤ 2× bare and ≤ 150 ms, RSS ≤ 1.4× bare`)
for (const name of functions) {
  const { median: ms, rss } = stats.get(name)!
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'MISS')
  console.log(
    `  ${name.padEnd(12)} ${mark(ms <= 2 * bare.median)} ×${(ms / bare.median).toFixed(2)} bare   ${mark(ms <= 150)} ${ms.toFixed(0)} ms   ${mark(rss <= 1.4 * bare.rss)} RSS ×${(rss / bare.rss).toFixed(2)}`,
  )
}

console.log('\nleft for import() (loaded only when the configuration or a request needs it):')
// Functions whose chunks are alike are listed on one line.
const byChunks = new Map<string, string[]>()
for (const target of targets.slice(2)) {
  const line = target.lazy.map((chunk) => `${chunk.name} ${KB(chunk.bytes)}`).join(', ')
  byChunks.set(line, [...(byChunks.get(line) ?? []), target.name])
}
for (const [line, names] of byChunks) console.log(`  ${names.join(', ')}: ${line}`)

// Images, when built here (scripts/images/build.sh); sizes as buildah reports them.
const listing = spawnSync(
  'bash',
  [join(root, 'scripts/images/buildah.sh'), 'images', '--format', '{{.Name}}:{{.Tag}} {{.Size}}'],
  { encoding: 'utf8' },
)
const images = new Map<string, string>()
for (const line of listing.status === 0 ? listing.stdout.split('\n') : []) {
  const [image, size] = line.trim().split(/\s+(.+)/)
  if (image && size) images.set(image, size)
}
console.log(
  `\nimages: ${functions.map((name) => `${name} ${images.get(`localhost/youtube-rag/${name}:local`) ?? 'not built'}`).join(', ')}`,
)

if (values.keep) console.log(`\nbundles kept in ${work}`)
else rmSync(work, { recursive: true, force: true })
