#!/usr/bin/env node
// Fills a bundle's V8 compile cache (`<bundle>/.node-compile-cache`, Node's NODE_COMPILE_CACHE):
// starts the bundle once, as its image runs it (`node main.mjs`, PORT=0, embedded stores in a
// temporary folder), waits for its first answer on /health/ready, then stops it with SIGTERM so
// Node writes the cache as it exits. A start from the image then skips parsing and compiling the
// JavaScript it reads at start-up, which is most of a cold start's own work (docs/images.md).
//
//   node scripts/images/compile-cache.mjs <bundle dir> [--user UID:GID]   # the Dockerfile: /app --user 1000:1000
//
// Node keys the cache by each file's path and content, by its own version and V8 flags (the
// image's NODE_OPTIONS, IMAGE_NODE_OPTIONS in bundle.mjs, are given), and by
// the user that runs it (the folder's name ends in the uid): it is made where the image runs the
// bundle (/app), by the Node the image ships, as the image's user. A cache that does not fit is
// ignored, never wrong. Made as another user (root only), it is handed back to root afterwards,
// readable by all, so the function can read it but not change it.
import { spawn } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IMAGE_NODE_OPTIONS } from './bundle.mjs'

/** The folder the cache goes to, inside the bundle: what NODE_COMPILE_CACHE names in the image. */
export const COMPILE_CACHE_DIR = '.node-compile-cache'

/** Gives up on a start that never answers (a broken bundle fails the build instead of hanging it). */
const START_TIMEOUT_MS = 60_000

/** One GET of /health/ready: its status, or 0 when nothing answered. */
const readiness = (port) =>
  new Promise((done) => {
    get({ host: '127.0.0.1', port, path: '/health/ready', timeout: 2_000 }, (response) => {
      response.resume()
      done(response.statusCode ?? 0)
    }).on('error', () => done(0))
  })

/** Gives a folder and all in it to root, readable by all: Node writes its cache files 0600. */
function handToRoot(dir) {
  for (const path of [dir, ...readdirSync(dir, { recursive: true }).map((entry) => join(dir, String(entry)))]) {
    chownSync(path, 0, 0)
    chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644)
  }
}

/**
 * Starts `<bundle>/main.mjs` with NODE_COMPILE_CACHE=<bundle>/.node-compile-cache, waits until
 * /health/ready answers (any status: a function without its tools is degraded, not broken), then
 * stops it and checks the cache was written. `user` runs it as that uid and gid (from root), as
 * the image will; the cache is root's afterwards. Gives the cache's folder.
 */
export async function fillCompileCache(bundle, { user } = {}) {
  const dir = resolve(bundle)
  const cache = join(dir, COMPILE_CACHE_DIR)
  const stores = mkdtempSync(join(tmpdir(), 'ytrag-compile-cache-'))
  if (user) {
    mkdirSync(cache, { recursive: true })
    chownSync(cache, user.uid, user.gid)
    chownSync(stores, user.uid, user.gid)
  }
  const child = spawn(process.execPath, ['main.mjs'], {
    cwd: dir,
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      INTERNAL_PORT: '0',
      YOUTUBE_RAG__STORAGE__DIR: stores,
      NODE_COMPILE_CACHE: cache,
      // V8's flags are part of the cache's key: the image's own.
      NODE_OPTIONS: IMAGE_NODE_OPTIONS,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })))
  let output = ''
  try {
    const port = await new Promise((done, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`no port in its log within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      )
      const read = (chunk) => {
        output += chunk
        const found = /"port":\s*(\d+)/.exec(output)
        if (found) {
          clearTimeout(timer)
          done(Number(found[1]))
        }
      }
      child.stdout.setEncoding('utf8').on('data', read)
      child.stderr.setEncoding('utf8').on('data', read)
      exited.then(({ code, signal }) => fail(new Error(`it exited (${signal ?? code}) before listening`)))
    })
    const deadline = Date.now() + START_TIMEOUT_MS
    while ((await readiness(port)) === 0) {
      if (Date.now() > deadline) throw new Error(`/health/ready did not answer within ${START_TIMEOUT_MS} ms`)
      await new Promise((done) => setTimeout(done, 50))
    }
    child.kill('SIGTERM')
    await exited
  } catch (error) {
    child.kill('SIGKILL')
    throw new Error(`compile cache of ${dir}: ${error.message}\n${output.slice(-2_000)}`)
  } finally {
    rmSync(stores, { recursive: true, force: true })
  }
  const written = existsSync(cache) && readdirSync(cache, { recursive: true }).length > 1
  if (!written) throw new Error(`compile cache of ${dir}: Node wrote nothing to ${cache}`)
  if (user) handToRoot(cache)
  return cache
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const [bundle] = args.filter((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--user')
  const userArg = args[args.indexOf('--user') + 1]
  const ids = args.includes('--user') ? /^(\d+):(\d+)$/.exec(userArg ?? '') : null
  if (!bundle || (args.includes('--user') && !ids)) {
    console.error('usage: node scripts/images/compile-cache.mjs <bundle dir> [--user UID:GID]')
    process.exit(2)
  }
  try {
    const user = ids ? { uid: Number(ids[1]), gid: Number(ids[2]) } : undefined
    console.log(`compile cache: ${await fillCompileCache(bundle, user ? { user } : {})}`)
  } catch (error) {
    console.error(error.message)
    process.exit(1)
  }
}
