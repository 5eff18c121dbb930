// `pnpm ytrag <command>`: the API from a terminal. It talks to a running server
// (`pnpm start`), at YTRAG_URL or --server, default http://127.0.0.1:8000; `doctor` needs none.
import { parseArgs } from 'node:util'
import { ApiConnectionError, ApiStatusError, createClient, unwrap } from './client/index.ts'
import { progressLine } from './progress/index.ts'

const usage = `usage: pnpm ytrag <command> [options]
  ingest <url> [--wait] [--language xx] [--force] [--playlist]
                                                    index a video, playlist or channel (--playlist: the
                                                    whole playlist of a watch?v=…&list=… URL)
  job <jobId>                                       a job's status
  search "<query>" [--limit n]                      timestamped passages
  ask "<question>" [--limit n]                      an answer with cited moments
  videos [--channel id] [--limit n]                 indexed videos
  delete <videoId>                                  remove a video and everything made from it
  channels add <url> [--backfill n|all] [--language xx] [--speech-to-text] [--interval seconds] [--wait]
  channels list                                     subscriptions and how their syncs went
  channels remove <channelId>                       stop following a channel (its videos stay)
  channels sync <channelId> [--wait]                sync a channel now
  doctor                                            check yt-dlp, its JS runtimes, ffmpeg, the stores and providers (no server needed)
options: --server http://127.0.0.1:8000 (or YTRAG_URL), --json (raw answers); YTRAG_API_KEY: the API key a server with keys wants`

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    server: { type: 'string' },
    wait: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    playlist: { type: 'boolean', default: false },
    language: { type: 'string' },
    limit: { type: 'string' },
    channel: { type: 'string' },
    backfill: { type: 'string' },
    'speech-to-text': { type: 'boolean', default: false },
    interval: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
const server = (
  values.server ??
  process.env.YTRAG_URL ??
  `http://127.0.0.1:${process.env.SERVER__PORT ?? process.env.YOUTUBE_RAG__SERVER__PORT ?? 8000}`
).replace(/\/$/, '')
const [command, argument, channelArgument] = positionals
const limit = values.limit ? Number(values.limit) : undefined

class CliError extends Error {}

/** A search hit or citation, as much of it as is printed. */
interface Passage {
  title: string
  start: number
  text: string
  url: string
  chapter?: { title: string } | undefined
}

/** The video's title, and the chapter when the video has chapters: `Indexes › Covering indexes`. */
const where = (passage: Passage) => (passage.chapter ? `${passage.title} › ${passage.chapter.title}` : passage.title)

const client = createClient({
  baseUrl: server,
  // A server with API__KEYS set wants one of its keys.
  ...(process.env.YTRAG_API_KEY ? { apiKey: process.env.YTRAG_API_KEY } : {}),
  onRateLimited: (seconds) => process.stderr.write(`rate limited by the server; retrying in ${seconds} s\n`),
})

const clock = (seconds: number) => {
  const s = Math.floor(seconds)
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60]
  return (hms[0] ? hms : hms.slice(1)).map((n, i) => (i === 0 ? String(n) : String(n).padStart(2, '0'))).join(':')
}
const print = (value: unknown) =>
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`)

async function waitForJob(jobId: string) {
  const tty = process.stderr.isTTY
  let last = ''
  for (;;) {
    const job = await unwrap(client.v1.jobs[':jobId'].$get({ param: { jobId } }))
    const line = progressLine(job)
    if (line !== last) process.stderr.write(tty ? `\r${line}` : `${line}\n`)
    last = line
    if (!['queued', 'running'].includes(job.status)) {
      if (tty) process.stderr.write('\n')
      for (const error of job.errors) process.stderr.write(`  ${error.videoId ?? 'job'}: ${error.message}\n`)
      for (const skip of job.skipped ?? []) process.stderr.write(`  ${skip.videoId} skipped: ${skip.reason}\n`)
      return job
    }
    // Once a second: smooth enough for a progress bar, and far inside the API's rate limit.
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

async function main(): Promise<number> {
  if (values.help || !command) {
    print(usage)
    return command ? 0 : 1
  }
  switch (command) {
    case 'ingest': {
      if (!argument) throw new CliError('ingest needs a URL')
      const job = await unwrap(
        client.v1.ingest.$post({
          json: {
            url: argument,
            ...(values.language ? { language: values.language } : {}),
            ...(values.force ? { force: true } : {}),
            ...(values.playlist ? { playlist: true } : {}),
          },
        }),
      )
      print(values.json ? job : `job ${job.jobId} ${job.status}`)
      if (!values.wait) return 0
      const done = await waitForJob(job.jobId)
      return done.status === 'succeeded' ? 0 : 1
    }
    case 'job': {
      if (!argument) throw new CliError('job needs a job id')
      print(await unwrap(client.v1.jobs[':jobId'].$get({ param: { jobId: encodeURIComponent(argument) } })))
      return 0
    }
    case 'search': {
      if (!argument) throw new CliError('search needs a query')
      const { hits } = await unwrap(client.v1.search.$post({ json: { query: argument, ...(limit ? { limit } : {}) } }))
      if (values.json) print({ hits })
      else if (hits.length === 0) print('no matches')
      else for (const hit of hits) print(`${where(hit)} @ ${clock(hit.start)}  ${hit.url}\n  ${hit.text}\n`)
      return 0
    }
    case 'ask': {
      if (!argument) throw new CliError('ask needs a question')
      const answer = await unwrap(client.v1.ask.$post({ json: { question: argument, ...(limit ? { limit } : {}) } }))
      if (values.json) print(answer)
      else {
        print(`${answer.answer}\n`)
        for (const citation of answer.citations)
          print(`[${citation.n}] ${where(citation)} @ ${clock(citation.start)}  ${citation.url}`)
      }
      return 0
    }
    case 'videos': {
      const page = await unwrap(
        client.v1.videos.$get({
          query: {
            ...(values.channel ? { channelId: values.channel } : {}),
            ...(limit ? { limit: String(limit) } : {}),
          },
        }),
      )
      if (values.json) print(page)
      else
        for (const video of page.items)
          print(
            `${video.videoId}  ${video.status.padEnd(11)} ${String(video.chunkCount).padStart(4)} chunks  ${video.title}`,
          )
      return 0
    }
    case 'delete': {
      if (!argument) throw new CliError('delete needs a video id')
      print(await unwrap(client.v1.videos[':videoId'].$delete({ param: { videoId: encodeURIComponent(argument) } })))
      return 0
    }
    case 'channels':
      return channels(argument, channelArgument)
    case 'doctor': {
      // Loaded only here: it brings the stores, yt-dlp's and ffmpeg's modules, which the API
      // commands (started often, from scripts) have no use for.
      const { formatDoctor, runDoctor } = await import('./doctor/index.ts')
      // This machine's configuration (the environment), as `npm start` would run it.
      const results = await runDoctor({ env: process.env })
      print(values.json ? results : formatDoctor(results))
      return results.some((result) => result.level === 'fail') ? 1 : 0
    }
    default:
      throw new CliError(`unknown command ${command}\n${usage}`)
  }
}

/** `ytrag channels add|list|remove|sync`. */
async function channels(action: string | undefined, target: string | undefined): Promise<number> {
  const wait = async (jobId: string) => (values.wait ? ((await waitForJob(jobId)).status === 'succeeded' ? 0 : 1) : 0)
  switch (action) {
    case 'add': {
      if (!target) throw new CliError('channels add needs a channel URL')
      const backfill =
        values.backfill === undefined ? undefined : values.backfill === 'all' ? 'all' : Number(values.backfill)
      if (backfill !== undefined && backfill !== 'all' && !Number.isInteger(backfill))
        throw new CliError('--backfill takes a number or "all"')
      const answer = await unwrap(
        client.v1.channels.$post({
          json: {
            url: target,
            ...(backfill === undefined ? {} : { backfill }),
            ...(values.language ? { languages: [values.language] } : {}),
            ...(values['speech-to-text'] ? { speechToText: true } : {}),
            ...(values.interval ? { intervalSeconds: Number(values.interval) } : {}),
          },
        }),
      )
      print(
        values.json
          ? answer
          : `subscribed to ${answer.channel.title ?? answer.channel.channelId} (${answer.channel.channelId})${answer.jobId ? `; backfill job ${answer.jobId}` : ''}`,
      )
      return answer.jobId ? wait(answer.jobId) : 0
    }
    case 'list': {
      const { items } = await unwrap(client.v1.channels.$get())
      if (values.json) print({ items })
      else if (items.length === 0) print('no subscriptions')
      else {
        for (const channel of items) {
          const last = channel.lastSyncAt
            ? `last sync ${channel.lastSyncAt} ${channel.lastOutcome} (${channel.videosFoundLastSync ?? 0} new)`
            : 'not synced yet'
          const failing = channel.consecutiveFailures
            ? `, ${channel.consecutiveFailures} failures in a row: ${channel.lastError}`
            : ''
          print(
            `${channel.channelId}  ${channel.title ?? channel.url}\n  ${last}${failing}; next ${channel.nextSyncAt}`,
          )
        }
      }
      return 0
    }
    case 'remove': {
      if (!target) throw new CliError('channels remove needs a channel id')
      print(
        await unwrap(client.v1.channels[':channelId'].$delete({ param: { channelId: encodeURIComponent(target) } })),
      )
      return 0
    }
    case 'sync': {
      if (!target) throw new CliError('channels sync needs a channel id')
      // No body, but said to be JSON: a local server takes a POST only as JSON (no form can send it).
      const { jobId } = await unwrap(
        client.v1.channels[':channelId'].sync.$post(
          { param: { channelId: encodeURIComponent(target) } },
          { headers: { 'content-type': 'application/json' } },
        ),
      )
      print(values.json ? { jobId } : `sync job ${jobId}`)
      return wait(jobId)
    }
    default:
      throw new CliError(`channels takes add, list, remove or sync\n${usage}`)
  }
}

try {
  process.exitCode = await main()
} catch (error) {
  // The server's refusals by their code (the class says which kind); no server at all as such.
  if (error instanceof ApiStatusError) process.stderr.write(`ytrag: ${error.code ?? error.status}: ${error.message}\n`)
  else if (error instanceof CliError || error instanceof ApiConnectionError)
    process.stderr.write(`ytrag: ${error.message}\n`)
  else throw error
  process.exitCode = 1
}
