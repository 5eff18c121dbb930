// The function images, really built and run: scripts/images/build.sh builds the Dockerfile with
// buildah (vfs storage, chroot isolation) on the locally made Debian + Node 24 base, for a plain
// function (indexer) and a media one (download); each is then started inside its image with
// `buildah run`, as its ENTRYPOINT and CMD say, and must answer /health/ready. The download
// image also does its real work against loopback fixtures: captions through yt-dlp, and audio
// through yt-dlp and the bundled ffmpeg into Opus segments. Its yt-dlp (trixie-backports) must be
// one that solves YouTube's JavaScript challenges, with the image's Node as the runtime
// (docs/images.md).
//
// Needs root (buildah's chroot isolation, debootstrap); buildah and debootstrap come from
// scripts/system-deps.sh, which this file runs when they are missing. The base rootfs and the
// layer cache stay in /var/tmp/ytrag-images (YTRAG_IMAGE_CACHE), so only the first run is cold.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEvent, requestForEvent, type EventData, type EventName } from '../../shared/events/src/index.ts'
import { startEventRecorder, type EventRecorder } from '../../shared/function/src/testing/index.ts'
import { HARBOUR_STORY, makeSpeechFixture } from '../../shared/media/src/testing/index.ts'
import { startOpenAiTestServer, type OpenAiTestServer } from '../../shared/providers/src/testing/index.ts'
import { embeddedBlobs, embeddedDocuments } from '../../shared/stores/src/embedded/index.ts'
import { loadCaptionFixture, startFixtureServer, type FixtureServer } from '../../shared/youtube/src/fixtures/index.ts'
import { IMAGE_JEMALLOC, IMAGE_MALLOC_CONF, IMAGE_NODE_OPTIONS } from '../../scripts/images/bundle.mjs'

const root = fileURLToPath(new URL('../../', import.meta.url))
const buildScript = join(root, 'scripts/images/build.sh')
const buildahScript = join(root, 'scripts/images/buildah.sh')
const run = promisify(execFile)

const PLAIN = 'indexer'
const MEDIA = 'download'
const imageOf = (fn: string) => `localhost/youtube-rag/${fn}:local`
const MINUTE = 60_000

// The first yt-dlp that solves YouTube's JavaScript challenges with an external runtime (Deno,
// or Node with --js-runtimes); older ones get too few formats, or none, from YouTube.
const FIRST_YTDLP_WITH_JS_RUNTIMES = '2025.11.12'

/** A yt-dlp version (YYYY.MM.DD, a hotfix adds .N) as the day it was released, in ms. */
function releaseDay(version: string): number {
  const day = /^(\d{4})\.(\d{2})\.(\d{2})(?:\.\d+)?$/.exec(version.trim())
  if (!day) throw new Error(`not a yt-dlp version: ${JSON.stringify(version)}`)
  return Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]))
}

const onPath = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0

/** Why the images cannot be built here, or undefined. Installs buildah and debootstrap when it can. */
function whyNot(): string | undefined {
  if (process.platform !== 'linux') return 'the images are built with buildah, on Linux'
  if (process.getuid?.() !== 0) return "buildah's chroot isolation and debootstrap need root (CI runs as root)"
  if (!onPath('buildah') || !onPath('debootstrap')) {
    spawnSync('bash', [join(root, 'scripts/system-deps.sh')], { stdio: 'inherit' })
    if (!onPath('buildah') || !onPath('debootstrap'))
      return 'buildah or debootstrap is missing and scripts/system-deps.sh could not install them'
  }
  return undefined
}

const skip = whyNot()
if (skip) console.warn(`test/images skipped: ${skip}`)

/** Runs buildah on the project's image storage and gives its stdout. */
async function buildah(args: string[]): Promise<string> {
  const { stdout } = await run('bash', [buildahScript, ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 })
  return stdout
}

/** Runs build.sh and gives its output, with the seconds it took. */
async function build(args: string[]): Promise<{ output: string; seconds: number }> {
  const started = Date.now()
  const child = spawn('bash', [buildScript, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`build.sh ${args.join(' ')} exited with ${code}:\n${output.slice(-6000)}`)
  return { output, seconds: Math.round((Date.now() - started) / 1000) }
}

/** `buildah run` of a command in a fresh container of `image`; gives its exit code and output. */
async function runIn(
  image: string,
  command: string[],
  options: { user?: string } = {},
): Promise<{ code: number; output: string }> {
  const container = (await buildah(['from', '--pull=never', image])).trim()
  try {
    const user = options.user ? ['--user', options.user] : []
    const result = spawnSync(
      'bash',
      [buildahScript, 'run', '--isolation', 'chroot', ...user, container, '--', ...command],
      { cwd: root, encoding: 'utf8' },
    )
    return { code: result.status ?? -1, output: `${result.stdout}${result.stderr}` }
  } finally {
    await buildah(['rm', container])
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Processes under `pid` (by their parent links in /proc), deepest last. */
function descendants(pid: number): { pid: number; cmdline: string }[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
    } catch {
      // gone meanwhile
    }
  }
  const found: { pid: number; cmdline: string }[] = []
  const visit = (parent: number) => {
    for (const child of children.get(parent) ?? []) {
      let cmdline = ''
      try {
        cmdline = readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()
      } catch {
        continue
      }
      found.push({ pid: child, cmdline })
      visit(child)
    }
  }
  visit(pid)
  return found
}

interface RunningFunction {
  url: string
  output(): string
  /** SIGTERM to the image's entrypoint (tini), as Knative stops a pod; gives the exit code. */
  stop(): Promise<number | null>
}

/**
 * Starts the function in a container of `image` with the image's ENTRYPOINT and CMD, on a free
 * loopback port (chroot isolation shares the host's network), and waits for /health/ready.
 */
async function startInImage(
  image: string,
  env: Record<string, string>,
  volumes: string[] = [],
): Promise<RunningFunction> {
  const config = JSON.parse(await buildah(['inspect', '--type', 'image', image])).OCIv1.config as {
    Entrypoint: string[]
    Cmd: string[]
  }
  const port = await freePort()
  const container = (await buildah(['from', '--pull=never', image])).trim()
  const envFlags = Object.entries({ ...env, PORT: String(port) }).flatMap(([key, value]) => [
    '--env',
    `${key}=${value}`,
  ])
  const child: ChildProcess = spawn(
    'bash',
    [
      buildahScript,
      'run',
      '--isolation',
      'chroot',
      ...envFlags,
      ...volumes.flatMap((volume) => ['--volume', volume]),
      container,
      '--',
      ...config.Entrypoint,
      ...config.Cmd,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  let exitCode: number | null | undefined
  void exited.then((code) => (exitCode = code))

  const url = `http://127.0.0.1:${port}`
  let stopped = false
  const stop = async () => {
    if (stopped) return exitCode ?? null
    stopped = true
    // Every process of the container, found before any exits (node outlives a killed parent).
    const processes = descendants(child.pid!)
    const entrypoint = processes.find((proc) => proc.cmdline.startsWith(config.Entrypoint.join(' ')))
    if (entrypoint) process.kill(entrypoint.pid, 'SIGTERM')
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000))
    const code = await Promise.race([exited, timeout])
    for (const proc of processes) {
      try {
        if (readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() === proc.cmdline)
          process.kill(proc.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    await exited
    await buildah(['rm', container]).catch(() => undefined)
    return code === 'timeout' ? null : code
  }

  const deadline = Date.now() + 90_000
  for (;;) {
    if (exitCode !== undefined) {
      await stop()
      throw new Error(`${image} exited with ${exitCode} before it was ready:\n${output.slice(-4000)}`)
    }
    const status = await fetch(`${url}/health/ready`).then(
      (response) => response.status,
      () => 0,
    )
    if (status === 200) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${image} was not ready after 90 s (last status ${status}):\n${output.slice(-4000)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  return { url, output: () => output, stop }
}

/** Posts a catalog event to a function, as a Trigger's delivery does. */
function deliver<N extends EventName>(url: string, name: N, subject: string, data: EventData<N>) {
  return fetch(requestForEvent(`${url}/`, createEvent(name, { function: 'test', subject, data }), 'binary'))
}

// Skipped only where images cannot be built at all (not root, or buildah/debootstrap cannot be
// installed); `skip` names which, in the suite's title and on the console.
describe.skipIf(Boolean(skip))(`function images${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const report: string[] = []
  afterAll(() => {
    if (report.length > 0) console.log(['function images:', ...report.map((line) => `  ${line}`)].join('\n'))
  })

  it(
    `builds a plain (${PLAIN}) and a media (${MEDIA}) image from the one Dockerfile`,
    async () => {
      const { output, seconds } = await build(['--prune', PLAIN, MEDIA])
      const sizes: Record<string, number> = {}
      for (const fn of [PLAIN, MEDIA]) {
        const line = new RegExp(`^build: ${imageOf(fn).replace(/[/.]/g, '\\$&')} (\\d+) MB in (\\d+) s$`, 'm').exec(
          output,
        )
        expect(line, `build.sh reports ${fn}`).not.toBeNull()
        sizes[fn] = Number(line![1])
        report.push(`${imageOf(fn)}: ${line![1]} MB, built in ${line![2]} s`)
      }
      report.push(`both, first build here (the base image too when missing): ${seconds} s`)
      // Node (~125 MB) on Debian minbase (~90 MB); a bundle (~9 MB) instead of node_modules. yt-dlp
      // brings python3, the media package its static ffmpeg (~70 MB).
      expect(sizes[PLAIN]).toBeLessThan(260)
      expect(sizes[MEDIA]).toBeLessThan(450)
    },
    45 * MINUTE,
  )

  it(
    'builds again with every layer from the cache when nothing changed',
    async () => {
      const { output, seconds } = await build([PLAIN, MEDIA])
      report.push(`both again, nothing changed (every layer from the cache): ${seconds} s`)
      const steps = output.match(/^\[\d\/\d\] STEP \d+\/\d+: (?!FROM )/gm) ?? []
      const cached = output.match(/^--> Using cache /gm) ?? []
      // Every step from the cache is the behaviour; the time is reported, not asserted (it depends
      // on what else the machine runs: buildah's vfs driver copies each cached layer).
      expect(cached.length).toBe(steps.length)
    },
    15 * MINUTE,
  )

  it(
    `the plain image runs as uid 1000 and holds Node, the bundle and sqlite-vec: nothing of yt-dlp, ffmpeg, pnpm, npm or a package manager`,
    async () => {
      const image = imageOf(PLAIN)
      const config = JSON.parse(await buildah(['inspect', '--type', 'image', image])).OCIv1.config
      expect(config).toMatchObject({
        User: '1000:1000',
        WorkingDir: '/app',
        Entrypoint: ['/usr/local/bin/tini', '--'],
        Cmd: ['node', '/app/main.mjs'],
      })
      expect(config.Env).toEqual(
        expect.arrayContaining([
          'PORT=8080',
          'NODE_ENV=production',
          'YOUTUBE_RAG__STORAGE__DIR=/tmp/youtube-rag',
          'NODE_COMPILE_CACHE=/app/.node-compile-cache',
          `NODE_OPTIONS=${IMAGE_NODE_OPTIONS}`,
          `LD_PRELOAD=${IMAGE_JEMALLOC}`,
          `MALLOC_CONF=${IMAGE_MALLOC_CONF}`,
        ]),
      )
      expect(config.Labels).toMatchObject({ 'io.youtube-rag.function': PLAIN })
      // Node runs on jemalloc, with its background thread: a process of the image maps the library,
      // and jemalloc takes the options (an option it does not know would be printed as an error).
      const allocator = await runIn(image, [
        'node',
        '-e',
        "setTimeout(() => process.stdout.write(require('node:fs').readFileSync('/proc/self/maps', 'utf8')), 200)",
      ])
      expect(allocator.code).toBe(0)
      expect(allocator.output).toContain(IMAGE_JEMALLOC)
      expect(allocator.output).not.toMatch(/<jemalloc>/)

      const listing = await runIn(image, ['sh', '-c', 'id -u; ls -A /app; ls -A /app/node_modules; node --version'])
      // sqlite-vec's extension, piscina (the embedded index's reader threads) with its native helper, the stop-word lists and WordNet's related words (@ytrag/wordnet).
      expect(listing.output.trim().split('\n')).toEqual([
        '1000',
        '.node-compile-cache',
        'chunks',
        'main.mjs',
        'node_modules',
        'package.json',
        '@napi-rs',
        '@ytrag',
        'piscina',
        'sqlite-vec',
        'sqlite-vec-linux-x64',
        'stopword',
        expect.stringMatching(/^v24\./),
      ])
      // Nor what the base it was built on carries: a package manager, npm, Node's headers.
      const absent = await runIn(image, [
        'sh',
        '-c',
        'for tool in yt-dlp ffmpeg python3 pnpm npm npx corepack apt-get dpkg perl; do command -v $tool; done; ls /src /usr/local/include /usr/local/lib/node_modules /var/lib/dpkg 2>/dev/null; true',
      ])
      expect(absent.output.trim()).toBe('')
      // The image's files are root's: the function cannot change its own code, nor add to it.
      expect((await runIn(image, ['sh', '-c', 'touch /app/main.mjs'])).code).not.toBe(0)
      expect((await runIn(image, ['sh', '-c', 'touch /app/other.mjs'])).code).not.toBe(0)
      // A start compiles nothing it read at build time: V8 takes the shipped cache for the bundle
      // (Node says so with NODE_DEBUG_NATIVE=COMPILE_CACHE), and the read-only /app stays as built.
      const cached = await runIn(image, [
        'sh',
        '-c',
        'NODE_DEBUG_NATIVE=COMPILE_CACHE timeout -s TERM 3 node /app/main.mjs 2>&1; true',
      ])
      expect(cached.output).toMatch(/V8 code cache for ESM file:\/\/\/app\/main\.mjs was accepted/)
      expect(cached.output).not.toMatch(/main\.mjs was rejected/)
      // The vector index's extension loads from the copied package.
      const vec = await runIn(image, [
        'node',
        '--input-type=module',
        '-e',
        "import { DatabaseSync } from 'node:sqlite'; import * as vec from 'sqlite-vec'; const db = new DatabaseSync(':memory:', { allowExtension: true }); vec.load(db); console.log(db.prepare('select vec_version() as v').get().v)",
      ])
      expect(vec.output.trim()).toMatch(/^v0\.1\./)
    },
    5 * MINUTE,
  )

  it(
    `the ${PLAIN} function starts in its image and answers /health/ready with 200`,
    async () => {
      const fn = await startInImage(imageOf(PLAIN), { YOUTUBE_RAG__STORAGE__DIR: '/tmp/ytrag' })
      try {
        const ready = await fetch(`${fn.url}/health/ready`)
        expect(ready.status).toBe(200)
        expect(await ready.json()).toMatchObject({ status: 'ready', function: PLAIN })
        expect((await fetch(`${fn.url}/health/live`)).status).toBe(200)
        expect(await (await fetch(`${fn.url}/metrics`)).text()).toMatch(/^# HELP /m)
      } finally {
        // Graceful: tini passes SIGTERM on, the server finishes and exits 0.
        expect(await fn.stop()).toBe(0)
        expect(fn.output()).toContain('SIGTERM received')
      }
    },
    5 * MINUTE,
  )

  it(
    'the media image has yt-dlp and the static ffmpeg on PATH for the function user',
    async () => {
      const image = imageOf(MEDIA)
      const tools = await runIn(image, [
        'sh',
        '-c',
        'command -v yt-dlp && command -v ffmpeg && yt-dlp --version && ffmpeg -hide_banner -encoders | grep -c libopus',
      ])
      expect(tools.code).toBe(0)
      // Debian for yt-dlp's Python, without what only building needs.
      expect(
        (
          await runIn(image, [
            'sh',
            '-c',
            'for tool in npm npx corepack pnpm; do command -v $tool; done; ls /usr/local/include /usr/local/lib/node_modules /usr/share/doc 2>/dev/null; true',
          ])
        ).output.trim(),
      ).toBe('')
      const [ytdlp, ffmpeg, version, opus] = tools.output.trim().split('\n')
      expect([ytdlp, ffmpeg]).toEqual(['/usr/bin/yt-dlp', '/app/bin/ffmpeg'])
      expect(version).toMatch(/^\d{4}\.\d{2}\.\d{2}/)
      expect(opus).toBe('1')
      // As uid 1000 (the image's user): one second of tone encoded to Opus in /tmp.
      const encode = await runIn(image, [
        'sh',
        '-c',
        'ffmpeg -hide_banner -loglevel error -f lavfi -i sine=duration=1 -c:a libopus /tmp/tone.ogg && head -c 4 /tmp/tone.ogg',
      ])
      expect(encode.output.trim()).toBe('OggS')
    },
    5 * MINUTE,
  )

  it(
    `the media image's yt-dlp is ${FIRST_YTDLP_WITH_JS_RUNTIMES} or later and finds the image's Node as its JavaScript runtime`,
    async () => {
      const image = imageOf(MEDIA)
      const version = (await runIn(image, ['yt-dlp', '--version'])).output.trim()
      report.push(`${MEDIA} image: yt-dlp ${version}`)
      expect(releaseDay(version), `yt-dlp ${version}`).toBeGreaterThanOrEqual(releaseDay(FIRST_YTDLP_WITH_JS_RUNTIMES))

      // As the function runs it (--ignore-config, a --proxy, Node named by its path), on a YouTube
      // URL so that the YouTube extractor starts and lists its challenge solvers; the proxy is a
      // closed loopback port, so the run stops at its first request.
      const closedPort = await freePort()
      const verbose = await runIn(image, [
        'yt-dlp',
        '--verbose',
        '--ignore-config',
        '--js-runtimes',
        'node:/usr/local/bin/node',
        '--proxy',
        `http://127.0.0.1:${closedPort}`,
        '--extractor-retries',
        '0',
        '--skip-download',
        'https://www.youtube.com/watch?v=aqz-KE-bpKQ',
      ])
      const debug = (name: string) => new RegExp(`^\\[debug\\] ${name}: (.*)$`, 'm').exec(verbose.output)?.[1]
      const runtimes = debug('JS runtimes')
      const solvers = debug('\\[youtube\\] \\[jsc\\] JS Challenge Providers')
      const libraries = debug('Optional libraries')
      report.push(
        `  [debug] JS runtimes: ${runtimes}`,
        `  [debug] [youtube] [jsc] JS Challenge Providers: ${solvers}`,
        `  [debug] Optional libraries: ${libraries}`,
      )
      // e.g. "node-24.22.3"; "(unsupported)" would follow a Node too old for yt-dlp.
      expect(runtimes, verbose.output.slice(0, 3000)).toMatch(/^node-24\.\d+\.\d+$/)
      // e.g. "bun (unavailable), deno (unavailable), node, quickjs (unavailable)": node available.
      expect(solvers?.split(', '), verbose.output.slice(0, 3000)).toContain('node')
      // The proxy was used and refused: no request left the machine.
      expect(verbose.output).toMatch(/Unable to connect to proxy|Connection refused/)

      // The challenge solver is two scripts: the solver ("core", which Debian's yt-dlp carries) and
      // the JavaScript parser it runs on ("lib": meriyah and astring, bundled). Debian packages no
      // yt-dlp-ejs and leaves the lib script out, and npm has no yt-dlp-ejs, so yt-dlp with Node
      // fetches that script when allowed to: --remote-components ejs:github (docs/images.md).
      // Should the image come to carry it, that setting is no longer needed: change both.
      const listing = await runIn(image, [
        'python3',
        '-c',
        [
          'import importlib.resources, importlib.util, json',
          'vendor = importlib.resources.files("yt_dlp.extractor.youtube.jsc._builtin.vendor")',
          'scripts = sorted(path.name for path in vendor.iterdir() if path.name.endswith(".js"))',
          'print(json.dumps({"scripts": scripts, "ejsPackage": importlib.util.find_spec("yt_dlp_ejs") is not None}))',
        ].join('; '),
      ])
      expect(listing.code, listing.output).toBe(0)
      const solver = JSON.parse(listing.output) as { scripts: string[]; ejsPackage: boolean }
      report.push(
        `  challenge solver scripts in yt-dlp: ${solver.scripts.join(', ')}; yt_dlp_ejs package: ${solver.ejsPackage ? 'yes' : 'no'}`,
      )
      expect(solver.scripts).toContain('yt.solver.core.js')
      expect({ libScript: solver.scripts.includes('yt.solver.lib.js'), ejsPackage: solver.ejsPackage }).toEqual({
        libScript: false,
        ejsPackage: false,
      })
    },
    5 * MINUTE,
  )

  describe(`the ${MEDIA} function in its image`, () => {
    let dir: string
    let storesDir: string
    let fixtures: FixtureServer
    let openai: OpenAiTestServer
    let sink: EventRecorder
    let fn: RunningFunction | undefined

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ytrag-images-'))
      // Bind-mounted as the function's /tmp/ytrag; it runs as uid 1000.
      storesDir = join(dir, 'stores')
      mkdirSync(storesDir)
      chmodSync(storesDir, 0o777)
      const speech = await makeSpeechFixture(dir, HARBOUR_STORY.slice(0, 6))
      fixtures = await startFixtureServer({
        videos: [
          {
            name: 'talk',
            title: 'A captioned talk',
            mediaFile: speech.file,
            captions: [{ lang: 'en', vtt: loadCaptionFixture('bicycle-history') }],
          },
          { name: 'harbour', title: 'The harbour', mediaFile: speech.file },
        ],
      })
      openai = await startOpenAiTestServer()
      sink = await startEventRecorder()
    }, 2 * MINUTE)
    afterAll(async () => {
      await fn?.stop()
      await Promise.all([fixtures?.close(), openai?.close(), sink?.close()])
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it(
      'answers /health/ready, reads captions and cuts audio into Opus segments from a loopback site',
      async () => {
        fn = await startInImage(
          imageOf(MEDIA),
          {
            YOUTUBE_RAG__STORAGE__DIR: '/tmp/ytrag',
            YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host,
            YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
            YOUTUBE_RAG__AUDIO__SEGMENT_SECONDS: '10',
            K_SINK: sink.url,
          },
          [`${storesDir}:/tmp/ytrag`],
        )
        expect((await fetch(`${fn.url}/health/ready`)).status).toBe(200)
        // The function made its stores (as uid 1000); the test adds a job and its videos to them.
        expect(existsSync(storesDir)).toBe(true)
        const stores = { documents: embeddedDocuments(storesDir), blobs: embeddedBlobs(storesDir) }
        try {
          await stores.documents.createJob({ jobId: 'job', url: fixtures.url('/talk.html') })
          for (const name of ['talk', 'harbour'])
            await stores.documents.insertVideo({ videoId: `${name}-1`, url: fixtures.url(`/${name}.html`) })
          await stores.documents.addJobVideos('job', ['talk-1', 'harbour-1'])
          await stores.documents.markJobDiscovered('job')

          // Captions: yt-dlp reads the page and the track; the transcript is announced.
          const talk = await deliver(fn.url, 'video.discovered', 'talk-1', {
            jobId: 'job',
            videoId: 'talk-1',
            url: fixtures.url('/talk.html'),
            force: false,
          })
          expect(talk.status, fn.output().slice(-3000)).toBe(202)
          expect(sink.events.map((event) => [event.name, event.subject])).toEqual([['transcript.ready', 'talk-1']])

          // No captions: yt-dlp downloads the audio, the bundled ffmpeg cuts it into Opus segments.
          const harbour = await deliver(fn.url, 'video.discovered', 'harbour-1', {
            jobId: 'job',
            videoId: 'harbour-1',
            url: fixtures.url('/harbour.html'),
            force: false,
          })
          expect(harbour.status, fn.output().slice(-3000)).toBe(202)
          const segments = sink.events.filter((event) => event.name === 'audio.segment.ready')
          expect(segments.length, fn.output().slice(-3000)).toBeGreaterThanOrEqual(2)
          const first = await stores.blobs.get((segments[0]!.data as { blobKey: string }).blobKey)
          expect(new TextDecoder().decode(first!.subarray(0, 4))).toBe('OggS')
          expect(await stores.documents.getVideo('harbour-1')).toMatchObject({
            status: 'transcribing',
            audio: { segmentCount: segments.length },
          })
        } finally {
          await stores.documents.close()
        }
        expect(await fn.stop()).toBe(0)
      },
      5 * MINUTE,
    )
  })
})
