#!/usr/bin/env node
// Bundles one function into what its image runs: `<out>/main.mjs` (the function, the shared
// packages and the npm dependencies every start needs, in one ES module), `<out>/chunks/`
// (what it reaches only through `import()`: the adapters and SDKs the configuration selects,
// each read the first time it is used) and `<out>/node_modules` holding only the packages that
// cannot be bundled because they ship native files.
//
//   node scripts/images/bundle.mjs <function> [out] [--sourcemap]   # out defaults to dist/<function>
//   node dist/indexer/main.mjs                                       # runs it (PORT, K_SINK, YOUTUBE_RAG__…)
//
// Why a bundle and not the sources: Node 24 strips TypeScript types itself, but only for
// erasable syntax (the api uses parameter properties), and the bundle also leaves the image
// without pnpm, the sources and the dependencies the function never imports, and starts faster
// (Knative scales functions to zero, so start-up is on the request path). Why chunks: a
// function's start-up is mostly reading JavaScript, so it reads only what its configuration
// uses (embedded stores never load the MongoDB, S3 or Qdrant clients; no API key, no OpenAI SDK).
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * Packages kept out of the bundle and copied with their dependencies instead, because they
 * find native files next to their own: sqlite-vec its loadable extension (`vec0.so`),
 * @ffmpeg-installer/ffmpeg the static ffmpeg (both in per-platform packages), piscina the
 * script each of its worker threads starts from (the embedded index's search threads), and
 * swagger-ui-dist, whose files the api serves at /docs (read from its folder, never imported);
 * and stopword, whose lists a query's analysis requires on first use, to keep them out of start-up, and
 * @ytrag/wordnet, the related words read (not imported) when a query has a word the index lacks. A function gets
 * one when a file whose code is in its bundle names it: an import esbuild left out, or a
 * `createRequire` it cannot see (the media package's ffmpeg module). So download gets ffmpeg,
 * and transcribe, which bundles only the media package's transcript joining, does not.
 */
/**
 * The Node options every function image runs with (the Dockerfile's `ENV NODE_OPTIONS`, which
 * test/images holds to this): the young generation capped at 8 MB a semi-space. Left to itself,
 * V8 grows it to its maximum under a burst of requests and keeps those pages resident after: the
 * api searching at 32 clients went from 112 to 306 MB and stayed there idle; capped, 187 MB, at
 * the same req/s (npm run bench:search). The benchmarks start the bundles with it too.
 */
export const IMAGE_NODE_OPTIONS = '--max-semi-space-size=8'

/**
 * The images run Node on jemalloc (the Dockerfile's `ENV LD_PRELOAD`, at this path), told to
 * give freed memory back to the system within a second, from a background thread (so also when
 * the process is idle): glibc's malloc keeps what a burst of requests freed, in every thread's
 * arena, long after. The api at 10k chunks, 40 s after bursts of 32-client searches: 1.39–1.68×
 * its RSS before them on glibc, 1.08–1.27× on jemalloc (docs/images.md); its start costs the
 * same CPU, and 3 MB more at ready. test/images holds the Dockerfile to these.
 */
export const IMAGE_JEMALLOC = '/usr/local/lib/libjemalloc.so.2'
export const IMAGE_MALLOC_CONF = 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0'

/** Where Debian's libjemalloc2 puts jemalloc on this machine, if it is installed. */
const hostJemalloc = ['x86_64-linux-gnu', 'aarch64-linux-gnu']
  .map((multiarch) => `/usr/lib/${multiarch}/libjemalloc.so.2`)
  .find((path) => existsSync(path))

/**
 * The environment a function's image gives Node, for starting a bundle here as the image would
 * (the benchmarks, the compile cache): its Node options, and jemalloc as the image preloads it
 * when this machine has Debian's libjemalloc2 (scripts/system-deps.sh installs it).
 */
export const imageNodeEnv = () => ({
  NODE_OPTIONS: IMAGE_NODE_OPTIONS,
  ...(hostJemalloc ? { LD_PRELOAD: hostJemalloc, MALLOC_CONF: IMAGE_MALLOC_CONF } : {}),
})

export const EXTERNAL_PACKAGES = [
  'sqlite-vec',
  '@ffmpeg-installer/ffmpeg',
  'piscina',
  'swagger-ui-dist',
  'stopword',
  '@ytrag/wordnet',
]

// esbuild reaches the workspace as a dependency of tsx; a directly installed one wins.
export async function loadEsbuild() {
  try {
    return await import('esbuild')
  } catch {
    const fromTsx = createRequire(createRequire(join(root, 'package.json')).resolve('tsx/package.json'))
    return await import(fromTsx.resolve('esbuild'))
  }
}

/** The directory of the package that `file` belongs to (the nearest package.json with a name). */
function packageDir(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name) return dir
  }
  throw new Error(`no package.json above ${file}`)
}

/** Resolves `name` as code in `fromDir` would, to the package's real directory, or undefined. */
function resolvePackage(name, fromDir) {
  const require = createRequire(join(fromDir, 'noop.js'))
  for (const request of [`${name}/package.json`, name]) {
    try {
      return realpathSync(packageDir(require.resolve(request)))
    } catch {
      // exports may hide package.json, or the package has no main: try the next form
    }
  }
  // A package with neither (sqlite-vec-linux-x64 only holds vec0.so): look in node_modules above.
  for (let dir = fromDir; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
  }
  return undefined
}

/**
 * Copies `name` (resolved from `fromDir`) and, recursively, the dependencies and installed
 * optional dependencies it needs, flat into `modulesDir`. Symlinks (pnpm's layout) are followed.
 */
function copyPackage(name, fromDir, modulesDir, copied) {
  if (copied.has(name)) return
  const dir = resolvePackage(name, fromDir)
  if (!dir) throw new Error(`cannot find ${name} from ${relative(root, fromDir)}; is the workspace installed?`)
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  copied.set(name, manifest.version)
  cpSync(dir, join(modulesDir, name), {
    recursive: true,
    dereference: true,
    filter: (source) => !source.slice(dir.length).includes('/node_modules'),
  })
  for (const dependency of Object.keys(manifest.dependencies ?? {})) copyPackage(dependency, dir, modulesDir, copied)
  for (const optional of Object.keys(manifest.optionalDependencies ?? {})) {
    // Only the platform packages that are installed (this machine's) exist; the rest are skipped.
    if (resolvePackage(optional, dir)) copyPackage(optional, dir, modulesDir, copied)
  }
}

/** Everything readable, and executables (ffmpeg's install script sets only u+x) executable, by the image's non-root user. */
function openPermissions(path) {
  const { mode } = statSync(path)
  if (statSync(path).isDirectory()) {
    chmodSync(path, mode | 0o555)
    for (const entry of readdirSync(path)) openPermissions(join(path, entry))
  } else {
    chmodSync(path, mode | 0o444 | (mode & 0o100 ? 0o111 : 0))
  }
}

const sizeOf = (path) =>
  lstatSync(path).isDirectory()
    ? readdirSync(path).reduce((total, entry) => total + sizeOf(join(path, entry)), 0)
    : lstatSync(path).size

/** The functions, by folder: those with a `src/main.ts`. */
export const functionNames = () =>
  readdirSync(join(root, 'functions')).filter((entry) => existsSync(join(root, 'functions', entry, 'src', 'main.ts')))

/**
 * What a start reads and what waits for an `import()`, from a build's metafile: the entry
 * output and every output it imports statically (transitively) load at start-up; every other
 * output is a lazily loaded chunk. Inputs are the source files bundled into each side.
 *
 * @example
 * const graph = loadGraph(metafile, 'dist/api/main.mjs') // paths as the metafile's keys
 * graph.initialBytes // what `node main.mjs` reads before it runs anything
 */
export function loadGraph(metafile, entry) {
  const initial = new Set()
  const pending = [entry]
  while (pending.length > 0) {
    const output = pending.pop()
    if (initial.has(output)) continue
    initial.add(output)
    for (const imported of metafile.outputs[output].imports) {
      if (!imported.external && imported.kind === 'import-statement') pending.push(imported.path)
    }
  }
  const scripts = Object.keys(metafile.outputs).filter((output) => output.endsWith('.mjs'))
  const lazy = scripts.filter((output) => !initial.has(output))
  const bytes = (outputs) => outputs.reduce((total, output) => total + metafile.outputs[output].bytes, 0)
  const inputs = (outputs) => new Set(outputs.flatMap((output) => Object.keys(metafile.outputs[output].inputs)))
  return {
    initial: [...initial],
    lazy,
    initialBytes: bytes([...initial]),
    lazyBytes: bytes(lazy),
    initialInputs: inputs([...initial]),
    lazyInputs: inputs(lazy),
  }
}

/**
 * zod's `z.locales` namespace holds every language's error messages (about 270 KB, 60 modules).
 * esbuild drops it when zod is imported as a namespace, but @hono/zod-openapi hands the whole
 * namespace to its extender, which keeps every locale in the api's start-up. The functions use
 * zod's default English messages only (set by zod itself from `locales/en.js`, not through
 * this namespace), so in the bundle `z.locales` holds English alone.
 */
const englishZodLocalesOnly = {
  name: 'english-zod-locales-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/]/.test(args.importer)) return undefined
      return {
        path: join(dirname(args.importer), args.path.replace(/index\.js$/, 'en.js')),
        namespace: 'zod-english-locales',
      }
    })
    build.onLoad({ filter: /.*/, namespace: 'zod-english-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)}`,
      resolveDir: dirname(args.path),
    }))
  },
}

/**
 * Bundles one module the way a function's image runs it: `<out>/main.mjs` and `<out>/chunks/`.
 * Options: `sourcemap` writes linked source maps next to the scripts (run with
 * `node --enable-source-maps`), off by default: the image has no use for them; `nodePaths`,
 * folders to resolve packages in besides the entry's own (the benchmark's baseline uses it).
 * Gives esbuild's result, with its metafile (paths relative to the workspace).
 */
export async function bundleEntry(entry, out, { sourcemap = false, nodePaths = [] } = {}) {
  const esbuild = await loadEsbuild()
  rmSync(out, { recursive: true, force: true })
  mkdirSync(out, { recursive: true })
  const result = await esbuild.build({
    entryPoints: { main: entry },
    outdir: out,
    outExtension: { '.js': '.mjs' },
    // Each `import()` target becomes a chunk of its own (and code two of them share, another),
    // read only when the import runs.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Less to read and parse at start-up. Names are kept: logs show error classes by name.
    minify: true,
    keepNames: true,
    sourcemap: sourcemap ? 'linked' : false,
    external: EXTERNAL_PACKAGES,
    nodePaths,
    plugins: [englishZodLocalesOnly],
    // The metafile's paths are relative to the workspace, whatever the caller's directory.
    absWorkingDir: root,
    // Bundled CommonJS packages call require() for Node's built-ins and use __dirname. In a
    // chunk, these name the chunk's own file and folder (`chunks/`); require() still finds
    // `<out>/node_modules`, one folder up.
    banner: {
      js: [
        "import { createRequire as __ytragCreateRequire } from 'node:module';",
        "import { fileURLToPath as __ytragFileURLToPath } from 'node:url';",
        'const require = __ytragCreateRequire(import.meta.url);',
        'const __filename = __ytragFileURLToPath(import.meta.url);',
        "const __dirname = __ytragFileURLToPath(new URL('.', import.meta.url));",
      ].join('\n'),
    },
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
  })
  if (result.errors.length > 0) throw new Error(`esbuild failed for ${entry}`)
  return result
}

const packageOf = (request) =>
  request.startsWith('@') ? request.split('/').slice(0, 2).join('/') : request.split('/')[0]

/** Bundles a function into `out` (emptied first); see `bundleEntry` for the options. */
export async function bundleFunction(name, out = join(root, 'dist', name), options = {}) {
  const functions = functionNames()
  if (!functions.includes(name))
    throw new Error(`unknown function ${JSON.stringify(name)}; one of: ${functions.join(', ')}`)
  const result = await bundleEntry(join(root, 'functions', name, 'src', 'main.ts'), out, options)

  // The externals the bundle needs, each resolved from where the workspace resolves it: the
  // file that names it. Only files whose code is in the output count (esbuild also reads the
  // modules a package's index re-exports and then drops them).
  const modulesDir = join(out, 'node_modules')
  const copied = new Map()
  const bundled = new Set(
    Object.values(result.metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
        .map(([input]) => input),
    ),
  )
  for (const input of bundled) {
    const named = new Set(
      result.metafile.inputs[input].imports
        .filter((imported) => imported.external)
        .map((imported) => packageOf(imported.path)),
    )
    if (/^(shared|functions)\//.test(input)) {
      const source = readFileSync(join(root, input), 'utf8')
      for (const name of EXTERNAL_PACKAGES)
        if (source.includes(`'${name}'`) || source.includes(`"${name}"`)) named.add(name)
    }
    for (const name of named)
      if (EXTERNAL_PACKAGES.includes(name)) copyPackage(name, dirname(join(root, input)), modulesDir, copied)
  }
  if (existsSync(modulesDir)) openPermissions(modulesDir)
  // The static ffmpeg goes on PATH too (`bin/`), for yt-dlp, which looks for it there.
  if (copied.has('@ffmpeg-installer/ffmpeg')) {
    const ffmpeg = createRequire(join(out, 'main.mjs'))('@ffmpeg-installer/ffmpeg').path
    // Its install script, which marks it executable, runs only where pnpm-workspace.yaml allows
    // it (linux-x64); an image built for another platform needs the mode set here.
    chmodSync(ffmpeg, 0o755)
    mkdirSync(join(out, 'bin'))
    symlinkSync(relative(join(out, 'bin'), ffmpeg), join(out, 'bin', 'ffmpeg'))
  }
  writeFileSync(
    join(out, 'package.json'),
    `${JSON.stringify({ name: `@ytrag/${name}-image`, private: true, type: 'module', main: 'main.mjs', dependencies: Object.fromEntries(copied) }, null, 2)}\n`,
  )
  const entry = Object.keys(result.metafile.outputs).find(
    (output) => result.metafile.outputs[output].entryPoint === `functions/${name}/src/main.ts`,
  )
  const graph = loadGraph(result.metafile, entry)
  return {
    out,
    bytes: sizeOf(out),
    bundleBytes: statSync(join(out, 'main.mjs')).size,
    initialBytes: graph.initialBytes,
    lazyBytes: graph.lazyBytes,
    chunks: graph.lazy.length,
    externals: Object.fromEntries(copied),
    metafile: result.metafile,
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const [name, out] = args.filter((arg) => !arg.startsWith('--'))
  if (!name) {
    console.error('usage: node scripts/images/bundle.mjs <function> [out] [--sourcemap]')
    process.exit(2)
  }
  try {
    const bundled = await bundleFunction(name, out && resolve(out), { sourcemap: args.includes('--sourcemap') })
    const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`
    const externals = Object.entries(bundled.externals).map(([pkg, version]) => `${pkg}@${version}`)
    const shown = relative(process.cwd(), bundled.out).startsWith('..')
      ? bundled.out
      : relative(process.cwd(), bundled.out)
    console.log(
      `${name}: ${shown}/main.mjs; read at start ${mb(bundled.initialBytes)}, ${bundled.chunks} chunks loaded when used ${mb(bundled.lazyBytes)}; ${mb(bundled.bytes)} in all; external: ${externals.join(', ') || 'none'}`,
    )
  } catch (error) {
    console.error(`bundle: ${error.message}`)
    process.exit(1)
  }
}
