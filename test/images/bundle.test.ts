// What a function's bundle makes it read when it starts (issue 13: scale from zero in the time of
// a bare Node server). Each function is bundled as its image is (scripts/images/bundle.mjs); from
// esbuild's metafile, what `main.mjs` imports statically is what every start reads, and it must
// hold none of the clients a configuration may select (MongoDB, S3, Qdrant, Redis, OpenAI, the
// OpenTelemetry SDK) nor another function's tools. Then the api is started on the embedded stores,
// with a module hook that records every module it loads: none of those clients' chunks may be
// among them. Started again with an OTLP endpoint, it loads the SDK's chunk and, on SIGTERM,
// sends the spans of the requests it served.
// No timings here: `npm run bench:cold-start` measures them.
import { spawn } from 'node:child_process'
import { globSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bundleFunction,
  functionNames,
  loadGraph,
  type BundledFunction,
  type Metafile,
} from '../../scripts/images/bundle.mjs'
import { startOtlpReceiver } from '../../shared/function/src/testing/index.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The npm package a bundled input belongs to, or undefined for the workspace's own files. */
const packageOf = (input: string) =>
  /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1]

/**
 * Clients only a configuration that selects them may load, the local broker's YAML parser, and
 * the OpenTelemetry SDK (only with an OTLP endpoint). @opentelemetry/api is not among them:
 * prom-client's process CPU metric requires it, in every start.
 */
const SELECTED_ONLY =
  /^(mongodb|bson|@aws-sdk\/.*|@smithy\/.*|@qdrant\/.*|undici|openai|redis|@redis\/.*|yaml|@opentelemetry\/(?!api$).*)$/
const ADAPTERS = /^shared\/stores\/src\/(documents\/mongo|chunks\/qdrant|blobs\/s3)\//

/** What each function must not carry at all: another function's tools. */
// shared/youtube's diagnostics channel (the name and shape of a yt-dlp run's message, which every
// function's metrics subscribe to) is a contract, not a tool: it may be anywhere.
const YOUTUBE = String.raw`shared\/youtube\/(?!src\/ytdlp\/diagnostics\.ts$)`
const NOT_MINE: Record<string, RegExp> = {
  api: /^shared\/media\/|@ffmpeg-installer/,
  discover: /^shared\/media\/|@ffmpeg-installer/,
  download: /^$/,
  transcribe: new RegExp(
    String.raw`^${YOUTUBE}|youtube-dl-exec|^shared\/media\/src\/(ffmpeg|segments|silences)\/|@ffmpeg-installer`,
  ),
  indexer: new RegExp(String.raw`^${YOUTUBE}|^shared\/media\/|youtube-dl-exec|@ffmpeg-installer`),
  'dead-letter': new RegExp(
    String.raw`^${YOUTUBE}|^shared\/(media|broker\/src\/(local-broker|manifests))\/|youtube-dl-exec|@ffmpeg-installer`,
  ),
}

const entryOf = (metafile: Metafile) =>
  Object.keys(metafile.outputs).find((output) => output.endsWith('/main.mjs') && metafile.outputs[output]!.entryPoint)!

const work = mkdtempSync(join(tmpdir(), 'ytrag-bundle-test-'))
const bundles = new Map<string, BundledFunction>()

beforeAll(async () => {
  for (const name of functionNames()) bundles.set(name, await bundleFunction(name, join(work, name)))
}, 300_000)

afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('what each function reads at start-up (from the metafile)', () => {
  it('knows every function', () => {
    expect([...bundles.keys()].sort()).toEqual(Object.keys(NOT_MINE).sort())
  })

  it.each(Object.keys(NOT_MINE))(
    '%s: no selectable client, no adapter of a remote store, no zod locale but English in main.mjs and its static imports',
    (name) => {
      const { metafile } = bundles.get(name)!
      const graph = loadGraph(metafile, entryOf(metafile))
      const initial = [...graph.initialInputs]
      expect(initial.filter((input) => SELECTED_ONLY.test(packageOf(input) ?? ''))).toEqual([])
      expect(initial.filter((input) => ADAPTERS.test(input))).toEqual([])
      // zod imported by name (`import { z }`) brings every locale; as a namespace, only the default.
      expect(initial.filter((input) => /zod\/v4\/locales\/(?!en\.js)/.test(input))).toEqual([])
      // They are still in the bundle, as chunks for the configurations that select them.
      expect([...graph.lazyInputs].some((input) => packageOf(input) === 'mongodb')).toBe(true)
      expect([...graph.lazyInputs].some((input) => packageOf(input) === 'openai')).toBe(true)
      expect([...graph.lazyInputs].some((input) => packageOf(input) === '@opentelemetry/sdk-trace')).toBe(true)
    },
  )

  // esbuild escapes what is past ASCII in strings and templates but leaves regular expression
  // literals as written: one such character makes V8 hold the whole script as a two-byte string,
  // which every start then decodes, hashes for the compile cache and scans at twice the cost
  // (the api: 3.6% of a start's instructions). Write it as a \u escape in the source.
  it.each(Object.keys(NOT_MINE))('%s: main.mjs and its static imports are ASCII', (name) => {
    const { metafile } = bundles.get(name)!
    const initial = loadGraph(metafile, entryOf(metafile)).initial
    const pastAscii = initial.flatMap((output) => {
      const found = /.{0,30}[^\p{ASCII}].{0,10}/u.exec(readFileSync(join(root, output), 'utf8'))
      return found ? [`${output}: ${found[0]}`] : []
    })
    expect(pastAscii).toEqual([])
  })

  it.each(Object.keys(NOT_MINE))("%s: none of another function's tools, in any chunk or in node_modules", (name) => {
    const bundle = bundles.get(name)!
    const inputs = Object.values(bundle.metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
        .map(([input]) => input),
    )
    expect(inputs.filter((input) => NOT_MINE[name]!.test(input))).toEqual([])
    // The embedded stores' native files (sqlite-vec), reader threads (piscina, with its thread-priority helper), stop-word lists (required on a query's first reading) and WordNet's related words (read for a word the index lacks) everywhere; ffmpeg in download only…
    const embedded = [
      '@napi-rs/nice',
      '@napi-rs/nice-linux-x64-gnu',
      'piscina',
      'sqlite-vec',
      'sqlite-vec-linux-x64',
      'stopword',
      '@ytrag/wordnet',
    ]
    // …and the api's /docs page, Swagger UI's files.
    const own: Record<string, string[]> = {
      download: ['@ffmpeg-installer/ffmpeg', '@ffmpeg-installer/linux-x64'],
      api: ['@scarf/scarf', 'swagger-ui-dist'],
    }
    expect(Object.keys(bundle.externals).sort()).toEqual([...(own[name] ?? []), ...embedded].sort())
  })
})

/** The api's bundle started on fresh embedded stores, with a module hook that records what it loads. */
const startApi = (env: Record<string, string> = {}) => startBundle('api', env)

/** A function's bundle started on fresh embedded stores, with a module hook that records what it loads. */
async function startBundle(name: string, env: Record<string, string> = {}) {
  const bundle = bundles.get(name)!
  const stores = mkdtempSync(join(work, 'stores-'))
  const loadedList = join(stores, 'loaded.txt')
  // Node's module hooks see every module loaded, chunks included; the list is written on exit.
  const hook = join(stores, 'record-loads.mjs')
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module'
import { writeFileSync } from 'node:fs'
const loaded = []
registerHooks({ load(url, context, nextLoad) { loaded.push(url); return nextLoad(url, context) } })
process.on('exit', () => writeFileSync(${JSON.stringify(loadedList)}, loaded.join('\\n')))
`,
  )
  const child = spawn(process.execPath, ['--import', pathToFileURL(hook).href, join(bundle.out, 'main.mjs')], {
    cwd: bundle.out,
    env: { PATH: process.env.PATH, PORT: '0', INTERNAL_PORT: '0', YOUTUBE_RAG__STORAGE__DIR: stores, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stderr!.on('data', (data: Buffer) => (output += data.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const port = await new Promise<number>((resolve, reject) => {
    void exited.then((code) => reject(new Error(`${name} exited with ${code}:\n${output}`)))
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString()
      const announced = /"port":(\d+)/.exec(output)?.[1]
      if (announced) resolve(Number(announced))
    })
  })
  let status = 0
  for (let attempt = 0; attempt < 200 && status !== 200; attempt++) {
    status = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
      (response) => response.status,
      () => 0,
    )
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  expect(status).toBe(200)
  return {
    url: `http://127.0.0.1:${port}`,
    /** Stops it as Knative does (SIGTERM) and gives the inputs of every chunk it loaded, by the metafile's names. */
    async stop() {
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      const loaded = readFileSync(loadedList, 'utf8')
        .split('\n')
        .filter((url) => url.startsWith('file:'))
        .map((url) => relative(root, fileURLToPath(url)))
      return loaded.flatMap((output) => Object.keys(bundle.metafile.outputs[output]?.inputs ?? {}))
    },
  }
}

describe('import() of a CommonJS package', () => {
  // esbuild makes a package loaded by import() a chunk of its own; one made of a CommonJS module
  // exports only `default` (its module.exports), where Node itself also gives the named exports.
  // Destructured names then work in the tests, which run the sources, and are undefined in every
  // image: the Redis limiter and each yt-dlp run failed so. Whereas tsx (`npm start`) gives only
  // the names of a package that says __esModule (redis): a site falls back to `default`.
  it('falls back to `default` wherever the bundles make the package a default-only chunk', () => {
    const commonJs = new Set<string>()
    for (const bundle of bundles.values())
      for (const output of Object.values(bundle.metafile.outputs)) {
        const name = output.entryPoint && packageOf(output.entryPoint)
        if (name && output.exports.length === 1 && output.exports[0] === 'default') commonJs.add(name)
      }
    expect(commonJs.size).toBeGreaterThan(0)
    const misread: string[] = []
    for (const file of globSync(['shared/*/src/**/*.ts', 'functions/*/src/**/*.ts'], { cwd: root })) {
      if (/\.(test|d)\.ts$|\/testing\//.test(file)) continue
      const text = readFileSync(join(root, file), 'utf8')
      for (const call of text.matchAll(/(?<!typeof )import\('((?:@[^/']+\/)?[^/'.][^/']*)[^']*'\)/g)) {
        if (!commonJs.has(call[1]!)) continue
        // Either `default` taken in `.then(({ default… })`, or the module held in a constant and each
        // name read with a fallback: `const m = await import('x')` then `m.name ?? m.default.name`.
        const after = text.slice(call.index! + call[0].length, call.index! + call[0].length + 200)
        const line = text.slice(text.lastIndexOf('\n', call.index!) + 1, call.index!)
        const held = /^\s*(?:const|let) (\w+) = await $/.exec(line)?.[1]
        const throughDefault =
          /^\.then\(\(\{ default/.test(after) ||
          (held !== undefined && new RegExp(String.raw`${held}\.(\w+) \?\? ${held}\.default\.\1\b`).test(after))
        if (!throughDefault) misread.push(`${file}: ${call[0]}`)
      }
    }
    expect(misread).toEqual([])
  })
})

describe('what a start leaves for first use, in the bundles as the images run them', () => {
  // The CloudEvents SDK, the word-form tables and Node's default metrics are required at first
  // use, not at start-up (issue 13); a bundle resolves those requires itself, so they are checked
  // here, where the tests that run the sources (tsx, vitest) cannot see them.
  it('dead-letter reads a dead-lettered CloudEvent, refuses one Knative did not dead-letter, and counts it at the first scrape', async () => {
    const deadLetter = await startBundle('dead-letter')
    try {
      const event = (extra: Record<string, string>) =>
        fetch(deadLetter.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'ce-specversion': '1.0',
            'ce-id': crypto.randomUUID(),
            'ce-source': '/test/bundle',
            'ce-type': 'io.youtube-rag.transcript.ready.v1',
            ...extra,
          },
          body: JSON.stringify({ jobId: 'no-such-job', videoId: 'no-such-video' }),
        })
      const refused = await event({})
      expect(refused.status).toBe(400)
      expect(await refused.text()).toMatch(/knativeerrordest/)
      const taken = await event({
        'ce-knativeerrordest': 'http://indexer.ytrag.svc.cluster.local',
        'ce-knativeerrorcode': '500',
      })
      expect(taken.status, await taken.clone().text()).toBeLessThan(300)
      const metrics = await (await fetch(`${deadLetter.url}/metrics`)).text()
      expect(metrics).toMatch(/ytrag_dead_letters_total\{[^}]*service="indexer"[^}]*\} 1/)
      // Node's default metrics, registered at this first scrape.
      expect(metrics).toMatch(/^nodejs_heap_size_total_bytes[{ ]/m)
    } finally {
      await deadLetter.stop()
    }
  }, 60_000)

  it('the api counts its requests in Redis when configured to (the Redis client, loaded at start-up from its chunk)', async () => {
    const api = await startApi({
      RATE_LIMIT__PROVIDER: 'redis',
      RATE_LIMIT__REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      RATE_LIMIT__REQUESTS: '1000',
    })
    try {
      const answer = await fetch(`${api.url}/v1/videos`)
      expect(answer.status).toBe(200)
      expect(answer.headers.get('ratelimit-limit')).toBe('1000')
      expect(Number(answer.headers.get('ratelimit-remaining'))).toBeLessThan(1000)
    } finally {
      await api.stop()
    }
  }, 60_000)

  it('the api answers a search that needs the word-form tables ("built" finds "build")', async () => {
    const api = await startApi()
    try {
      const search = await fetch(`${api.url}/v1/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'what was built from the fallen blocks', limit: 5 }),
      })
      expect(search.status, await search.clone().text()).toBe(200)
      expect(await search.json()).toMatchObject({ hits: [] })
    } finally {
      await api.stop()
    }
  }, 60_000)
})

describe('what a started function loads', () => {
  it('the api on the embedded stores loads its embedded adapters, and not one chunk of a client, by the time it is ready', async () => {
    const api = await startApi()
    const inputs = await api.stop()
    expect(inputs.some((input) => input.startsWith('shared/stores/src/documents/sqlite/'))).toBe(true)
    expect(inputs.filter((input) => SELECTED_ONLY.test(packageOf(input) ?? '') || ADAPTERS.test(input))).toEqual([])
  }, 60_000)

  it('the api with an OTLP endpoint loads the SDK and sends the spans of the requests it served when stopped', async () => {
    const receiver = await startOtlpReceiver()
    try {
      const api = await startApi({ YOUTUBE_RAG__TELEMETRY__OTLP_ENDPOINT: receiver.url })
      expect((await fetch(`${api.url}/v1/jobs/no-such-job`)).status).toBe(404)
      const inputs = await api.stop()
      expect(inputs.some((input) => packageOf(input) === '@opentelemetry/exporter-trace-otlp-http')).toBe(true)
      // The batch is sent on SIGTERM, well before its 5 s schedule: the process is gone by then.
      expect(receiver.spans.map(({ service, kind, name }) => ({ service, kind, name }))).toEqual([
        { service: 'api', kind: 'server', name: 'GET /v1/jobs/:jobId' },
      ])
    } finally {
      await receiver.close()
    }
  }, 60_000)
})
