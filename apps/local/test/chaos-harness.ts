// The machinery of the chaos test (chaos.test.ts): a fixture playlist, kill points that fire on
// the server's own log lines, on fixture requests in flight or on a clock, a scenario that
// kills the server (the whole process tree, SIGKILL) at one of them and restarts it on the same
// storage, and the checks that follow a restart. Only HTTP, the log and the storage directory
// are used: the server runs as `npm start` runs it.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { eventType, type EventName } from '@ytrag/events'
import { blobKeys } from '@ytrag/stores'
import {
  CAPTION_FIXTURES,
  loadCaptionFixture,
  startFixtureServer,
  type FixtureServer,
  type FixtureVideo,
} from '@ytrag/youtube/fixtures'
import { startServerProcess, type ProcessInfo, type ServerProcess } from './server-process.ts'

/** How long, after a restart, every job may take to become terminal (issue 10). */
export const TERMINAL_WITHIN_MS = 60_000

const PLAYLIST_PATH = '/chaos.html'

/** The first `cues` cues of a WebVTT text, with its header. Cues are separated by an empty line. */
export function firstCues(vtt: string, cues: number): string {
  const blocks = vtt.replace(/\r\n/g, '\n').split(/\n\n+/)
  const firstCue = blocks.findIndex((block) => block.includes('-->'))
  return `${[...blocks.slice(0, firstCue), ...blocks.slice(firstCue, firstCue + cues)].join('\n\n')}\n`
}

/**
 * Eight captioned talks for one playlist page, each with its own name and a different length of
 * one of the sample caption files, so the videos differ in chunk count and a mix-up between
 * them shows as a wrong count.
 */
export function chaosVideos(): FixtureVideo[] {
  const shares = [1, 0.55, 0.8, 0.4, 0.95, 0.65, 0.3, 0.75]
  return shares.map((share, index) => {
    const fixture = CAPTION_FIXTURES[index % CAPTION_FIXTURES.length]!
    const vtt = loadCaptionFixture(fixture)
    const total = vtt.split(/\n\n+/).filter((block) => block.includes('-->')).length
    return {
      name: `talk${index + 1}`,
      title: `Talk ${index + 1}: ${fixture}`,
      captions: [{ lang: 'en', label: 'English', vtt: firstCues(vtt, Math.max(4, Math.round(total * share))) }],
    }
  })
}

/** A pino line of the server's log, with the fields the kill points look at. */
export interface LogLine {
  function?: string
  msg?: string
  /** On `emitted` lines: the CloudEvent type sent. */
  emitted?: string
  /** On lines of an event's handling: the type of the event handled. */
  type?: string
  subject?: string
}

type Trigger =
  /** The `nth` log line that `match` accepts; the kill follows `delayMs` later (default at once). */
  | { kind: 'log'; match: (line: LogLine) => boolean; nth: number; delayMs?: number }
  /**
   * The `nth` request to the fixture site whose path matches: held until the server is dead
   * (yt-dlp waits on it), or let through and the kill `delayMs` later.
   */
  | { kind: 'request'; path: RegExp; nth: number; delayMs?: number }
  /** A share of the clean run's ingest-to-terminal time after the ingest was accepted. */
  | { kind: 'clock'; share: number }

export interface KillPoint {
  /** Named so a failure says which point broke. */
  name: string
  phase: 'listing' | 'discover' | 'download' | 'captions' | 'indexing' | 'api' | 'clock'
  trigger: Trigger
}

export const emitted = (fn: string, name: EventName) => (line: LogLine) =>
  line.function === fn && line.msg === 'emitted' && line.emitted === eventType(name)
export const handled = (fn: string, name: EventName) => (line: LogLine) =>
  line.function === fn && line.msg === 'handled' && line.type === eventType(name)
export const logged = (fn: string, msg: string) => (line: LogLine) => line.function === fn && line.msg === msg

/** What a clean run gives: the measure every scenario is held to. */
export interface Reference {
  /** Chunks per video, as the video reports them and as the chunk index holds them. */
  chunkCounts: Record<string, number>
  /** Every blob file the storage holds after a clean run, relative to `<storage>/blobs`. */
  blobs: string[]
  /** From the accepted ingest to the terminal job, in ms. */
  durationMs: number
}

/** Chunk rows per video in the chunk index, and whether any chunk index repeats. */
export interface ChunkRows {
  count: number
  distinctIndexes: number
}

/**
 * Reads the embedded chunk index directly (read-only): the API shows a video's chunkCount but
 * not the rows the index really holds, and a replayed indexing could add rows without changing
 * the count a video reports. The schema is SqliteChunkIndex's (shared/stores/src/chunks/sqlite).
 */
export function chunkRows(storageDir: string): { byVideo: Record<string, ChunkRows>; rows: number; ftsRows: number } {
  const db = new DatabaseSync(join(storageDir, 'chunks.sqlite'), { readOnly: true })
  try {
    const byVideo: Record<string, ChunkRows> = {}
    for (const row of db
      .prepare('SELECT video_id, count(*) AS n, count(DISTINCT chunk_index) AS d FROM chunks GROUP BY video_id')
      .all()) {
      byVideo[String(row.video_id)] = { count: Number(row.n), distinctIndexes: Number(row.d) }
    }
    const rows = Number(db.prepare('SELECT count(*) AS n FROM chunks').get()?.n ?? 0)
    // The full-text rows must match the chunk rows one for one: a stray one is a chunk search could still find.
    const ftsRows = Number(db.prepare('SELECT count(*) AS n FROM chunks_fts').get()?.n ?? 0)
    return { byVideo, rows, ftsRows }
  } finally {
    db.close()
  }
}

/**
 * Every job the storage holds, read from the document file (read-only): no API lists jobs, and
 * a job whose id never reached the client (the server died while answering) counts too.
 */
function storedJobIds(storageDir: string): string[] {
  const db = new DatabaseSync(join(storageDir, 'documents.sqlite'), { readOnly: true })
  try {
    return db
      .prepare('SELECT job_id FROM jobs ORDER BY created_at')
      .all()
      .map((row) => String(row.job_id))
  } finally {
    db.close()
  }
}

/** Every file under `<storage>/blobs`, dot files (a `.tmp` left by a torn write) included. */
function blobFiles(storageDir: string): string[] {
  const root = join(storageDir, 'blobs')
  const files: string[] = []
  const walk = (dir: string) => {
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const full = join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else files.push(relative(root, full).split(sep).join('/'))
    }
  }
  walk(root)
  return files.sort()
}

/** The blobs a captioned video leaves: its caption file and the transcript built from it. */
/**
 * The blobs an indexed captioned video keeps: its caption file, its transcript and, for a video
 * of a page that holds several (the harness's playlist), the info its listing read.
 */
export const expectedBlobs = (videoIds: string[], language: string) =>
  videoIds
    .flatMap((videoId) => [
      blobKeys.captions(videoId, language),
      blobKeys.transcript(videoId),
      blobKeys.listedInfo(videoId),
    ])
    .sort()

interface JobView {
  jobId: string
  status: string
  videos: { total: number; indexed: number; failed: number }
  errors: { videoId?: string; message: string }[]
  updatedAt: string
}
interface VideoView {
  videoId: string
  status: string
  chunkCount: number
  stages: Record<string, { status: string }>
  error?: string
}

const TERMINAL = new Set(['succeeded', 'failed', 'partial'])
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

/** A counting semaphore: how many scenarios may be busy (spending CPU) at once. */
export function slots(size: number) {
  let free = size
  const waiting: (() => void)[] = []
  return {
    async acquire() {
      if (free > 0) {
        free--
        return
      }
      await new Promise<void>((done) => waiting.push(done))
    },
    release() {
      const next = waiting.shift()
      if (next) next()
      else free++
    },
  }
}
export type Slots = ReturnType<typeof slots>

/** The environment a chaos server runs with (on top of the test's own). */
function serverEnv(storageDir: string, fixtures: FixtureServer, tempDir?: string): Record<string, string> {
  return {
    // The server's temporary folders (yt-dlp's captions, the audio) in the scenario's own: what a
    // killed server leaves there is counted, and removed with the scenario.
    ...(tempDir ? { TMPDIR: tempDir } : {}),
    YOUTUBE_RAG__STORAGE__DIR: storageDir,
    YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host,
    // Retries in tens of milliseconds, not seconds; the schedule would only add deliveries.
    YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.05',
    YOUTUBE_RAG__BROKER__PING_SCHEDULE: 'off',
    // debug: the `emitted` lines, which the kill points around emits wait for.
    YOUTUBE_RAG__LOG__LEVEL: 'debug',
    YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '0',
    // Captions only: a developer's key or base URL must not send the test to a paid API.
    OPENAI_API_KEY: '',
    YOUTUBE_RAG__OPENAI__BASE_URL: '',
  }
}

async function getJson<T>(server: ServerProcess, path: string): Promise<T> {
  const { status, body } = await server.call<T>('GET', path)
  if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${JSON.stringify(body)}`)
  return body
}

/** Whether the server is doing anything: a yt-dlp (python) or ffmpeg of its own running. */
const working = (processes: ProcessInfo[]) =>
  processes.some((info) => /^(yt-dlp|python|ffmpeg|ffprobe)/.test(info.comm))

/**
 * Polls the jobs until each is terminal or `withinMs` has passed. While it waits, a scenario
 * that has been idle for 3 s (no job moved, no yt-dlp running: it is stuck) gives its slot
 * back, so stuck scenarios wait side by side instead of one after the other.
 */
async function waitTerminal(server: ServerProcess, jobIds: string[], withinMs: number, slot: { release(): void }) {
  const started = performance.now()
  let lastChange = performance.now()
  let previous = ''
  for (;;) {
    const jobs = await Promise.all(jobIds.map((jobId) => getJson<JobView>(server, `/v1/jobs/${jobId}`)))
    const elapsed = performance.now() - started
    if (jobs.every((job) => TERMINAL.has(job.status))) return { jobs, ms: elapsed, terminal: true }
    if (elapsed > withinMs) return { jobs, ms: elapsed, terminal: false }
    const now = JSON.stringify(jobs.map((job) => [job.status, job.updatedAt]))
    if (now !== previous || working(server.processes())) lastChange = performance.now()
    previous = now
    if (performance.now() - lastChange > 3000) slot.release()
    await sleep(200)
  }
}

/** The restarted server's warnings and errors (the debug log is long), last ones first out. */
function logExcerpt(output: string, lines = 12): string {
  const kept = output.split('\n').filter((line) => line && !/"level":"(debug|info|trace)"/.test(line))
  return kept
    .slice(-lines)
    .map((line) => `         ${line.slice(0, 400)}`)
    .join('\n')
}

const describeVideo = (video: VideoView) =>
  `${video.videoId} ${video.status} (download ${video.stages.download?.status}, transcribe ${video.stages.transcribe?.status}, index ${video.stages.index?.status}${video.error ? `, error: ${video.error}` : ''})`

/** The state of storage after a restart, held against the reference. */
interface Check {
  /** Videos not indexed, or with fewer chunks in the index than a clean run. */
  lost: string[]
  /** Videos with more chunks (in the index or the count they report) than a clean run, or a chunk index repeated. */
  duplicated: string[]
  problems: string[]
  /** One line per video: status and stages, to show where a stuck pipeline stopped. */
  videos: string[]
}

async function checkStorage(server: ServerProcess, storageDir: string, reference: Reference): Promise<Check> {
  const lost: string[] = []
  const duplicated: string[] = []
  const problems: string[] = []
  const listed = (await getJson<{ items: VideoView[] }>(server, '/v1/videos?limit=100')).items
  const expectedIds = Object.keys(reference.chunkCounts).sort()
  const listedIds = listed.map((video) => video.videoId).sort()
  const extra = listedIds.filter((id) => !expectedIds.includes(id))
  if (extra.length > 0) problems.push(`videos that a clean run does not have: ${extra.join(', ')}`)
  const rows = chunkRows(storageDir)
  const videos: string[] = []
  for (const videoId of expectedIds) {
    const want = reference.chunkCounts[videoId]!
    const { status, body: video } = await server.call<VideoView>('GET', `/v1/videos/${videoId}`)
    const inIndex = rows.byVideo[videoId] ?? { count: 0, distinctIndexes: 0 }
    if (status !== 200) {
      lost.push(videoId)
      videos.push(`${videoId} missing (HTTP ${status})`)
      continue
    }
    videos.push(describeVideo(video))
    if (video.status !== 'indexed' || inIndex.count < want) {
      lost.push(videoId)
      if (video.status === 'indexed')
        problems.push(`${videoId} is indexed but the chunk index holds ${inIndex.count} of its ${want} chunks`)
    } else if (inIndex.count > want || video.chunkCount > want || inIndex.distinctIndexes < inIndex.count) {
      duplicated.push(videoId)
      problems.push(
        `${videoId} duplicated: ${inIndex.count} chunks in the index (${inIndex.distinctIndexes} distinct), ${video.chunkCount} reported, a clean run ${want}`,
      )
    } else if (video.chunkCount !== want) {
      problems.push(`${videoId} reports ${video.chunkCount} chunks, a clean run ${want}`)
    }
  }
  if (lost.length > 0) problems.unshift(`videos not indexed: ${lost.join(', ')}`)
  const strays = Object.keys(rows.byVideo).filter((id) => !expectedIds.includes(id))
  if (strays.length > 0) problems.push(`chunks of unknown videos: ${strays.join(', ')}`)
  if (rows.ftsRows !== rows.rows) problems.push(`the full-text index has ${rows.ftsRows} rows for ${rows.rows} chunks`)

  const blobs = blobFiles(storageDir)
  const orphans = blobs.filter((file) => !reference.blobs.includes(file))
  // A video not indexed may lack its blobs (it is lost already); an indexed one may not.
  const missing = reference.blobs.filter(
    (file) => !blobs.includes(file) && !lost.some((videoId) => file.startsWith(blobKeys.videoPrefix(videoId))),
  )
  if (orphans.length > 0) problems.push(`orphan blobs: ${orphans.join(', ')}`)
  if (missing.length > 0) problems.push(`blobs missing for indexed videos: ${missing.join(', ')}`)
  return { lost, duplicated, problems, videos }
}

export interface ScenarioResult {
  point: KillPoint
  killed: boolean
  /** When the kill came, after the ingest was accepted, and what set it off. */
  killedAfterMs?: number
  killedBy?: string
  processesKilled?: number
  /** The names of the processes killed (node, pnpm, python3 for yt-dlp…). */
  killedProcesses?: string[]
  /** From the restarted server's readiness to every job terminal; undefined when they were not within 60 s. */
  terminalMs?: number
  jobs: string[]
  check?: Check
  /** The same URL ingested again after the restart, as a user would. */
  reingest?: { status: string; ms: number; check?: Check }
  problems: string[]
  /** The end of the restarted server's log, when something went wrong. */
  log?: string
  /** Temporary folders (`ytrag-captions-…`, `ytrag-audio-…`) left in the server's TMPDIR once all is done. */
  tempLeftovers?: number
  /** Where the scenario's time went, in ms: to spot what makes the test slow. */
  timings: Record<string, number>
  /** A clock point's run whose job ended before the clock fired: ingest to terminal, in ms. */
  endedUnkilledMs?: number
  /** Clock points only: the clean-run lengths tried, when the first proved longer than this run. */
  clockRetries?: number[]
}

/**
 * One scenario on fresh storage: start the server as `npm start` does, ingest the playlist,
 * SIGKILL the whole process tree at `point`, restart on the same storage, wait for every job to
 * be terminal, check videos, chunks and blobs, then ingest the same URL again and check again.
 *
 * A clock point is a share of how long the pipeline runs, and the clean run measured that once,
 * on a machine whose load changes: a run that ends before its clock fires is run again with
 * the clock scaled to the run just seen, so the kill still lands inside the pipeline.
 */
export async function runScenario(
  point: KillPoint,
  reference: Reference,
  slotPool: Slots,
  videos: FixtureVideo[],
): Promise<ScenarioResult> {
  let result = await runScenarioOnce(point, reference, slotPool, videos)
  const tried: number[] = []
  let durationMs = reference.durationMs
  while (point.trigger.kind === 'clock' && !result.killed && result.endedUnkilledMs !== undefined && tried.length < 2) {
    tried.push(Math.round(durationMs))
    durationMs = Math.min(durationMs, result.endedUnkilledMs) * 0.9
    result = await runScenarioOnce(point, { ...reference, durationMs }, slotPool, videos)
  }
  if (tried.length > 0) result.clockRetries = tried
  return result
}

async function runScenarioOnce(
  point: KillPoint,
  reference: Reference,
  slotPool: Slots,
  videos: FixtureVideo[],
): Promise<ScenarioResult> {
  const result: ScenarioResult = { point, killed: false, jobs: [], problems: [], timings: {} }
  let mark = performance.now()
  const lap = (name: string) => {
    const now = performance.now()
    result.timings[name] = Math.round(now - mark)
    mark = now
  }
  let holding = false
  const slot = {
    async take() {
      if (!holding) await slotPool.acquire()
      holding = true
    },
    release() {
      if (holding) slotPool.release()
      holding = false
    },
  }
  await slot.take()
  lap('slot')
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-chaos-'))
  const storage = join(dir, 'state')
  let first: ServerProcess | undefined
  let second: ServerProcess | undefined
  let fixtures: FixtureServer | undefined

  // The kill, set off once by whichever trigger fires.
  let ingestedAt = 0
  let kill: Promise<ProcessInfo[]> | undefined
  const fire = (what: string) => {
    if (kill || !first) return kill
    result.killedAfterMs = ingestedAt ? Math.round(performance.now() - ingestedAt) : 0
    result.killedBy = what
    kill = first.kill()
    // Awaited below; this only keeps a failed kill from counting as an unhandled rejection meanwhile.
    kill.catch(() => undefined)
    return kill
  }
  const { trigger } = point
  let seen = 0
  // Delayed kills not yet fired when the scenario ends must not fire on a later one's time.
  const timers: NodeJS.Timeout[] = []
  const later = (ms: number, what: string) => timers.push(setTimeout(() => void fire(what), ms))
  try {
    fixtures = await startFixtureServer({
      videos,
      pages: [{ path: PLAYLIST_PATH, title: 'Chaos playlist', videos: videos.map((video) => video.name) }],
      async onRequest(path) {
        if (trigger.kind !== 'request' || !trigger.path.test(path) || ++seen !== trigger.nth) return
        const what = `request ${trigger.nth} of ${trigger.path} (${path})`
        if (trigger.delayMs) later(trigger.delayMs, what)
        // Held: the client that asked dies waiting for the answer.
        else await fire(what)?.catch(() => undefined)
      },
    })
    const temp = join(dir, 'tmp')
    mkdirSync(temp)
    const env = serverEnv(storage, fixtures, temp)
    const jobIdsInLog = new Set<string>()
    first = await startServerProcess(env, {
      onLine(text) {
        if (!text.startsWith('{')) return
        let line: LogLine
        try {
          line = JSON.parse(text) as LogLine
        } catch {
          return
        }
        if (emitted('api', 'ingest.requested')(line) && line.subject) jobIdsInLog.add(line.subject)
        if (trigger.kind !== 'log' || !trigger.match(line) || ++seen !== trigger.nth) return
        const what = `log line ${trigger.nth}: ${line.function} ${line.msg} ${line.emitted ?? line.type ?? ''} ${line.subject ?? ''}`
        if (trigger.delayMs) later(trigger.delayMs, what)
        else void fire(what)
      },
    })
    lap('start')
    ingestedAt = performance.now()
    // The server may die while it answers (a kill on the api's own emit): the job's id is in the log then.
    const url = fixtures.url(PLAYLIST_PATH)
    const answer = await first.call<{ jobId: string }>('POST', '/v1/ingest', { url }).catch((error: Error) => error)
    if (!(answer instanceof Error) && answer.status !== 202)
      throw new Error(`the ingest answered ${answer.status}: ${JSON.stringify(answer.body)}`)
    if (trigger.kind === 'clock')
      later(trigger.share * reference.durationMs, `clock at ${Math.round(trigger.share * 100)}% of a clean run`)

    // The kill point must come: if the job ends and nothing fired, the point was never reached.
    const deadline = performance.now() + Math.max(90_000, reference.durationMs * 6)
    while (!kill) {
      if (performance.now() > deadline) break
      const jobId = answer instanceof Error ? [...jobIdsInLog][0] : answer.body.jobId
      const job = jobId ? await first.call<JobView>('GET', `/v1/jobs/${jobId}`).catch(() => undefined) : undefined
      if (!kill && job && TERMINAL.has(job.body.status)) {
        result.endedUnkilledMs ??= Math.round(performance.now() - ingestedAt)
        await sleep(2000)
        if (!kill) break
      }
      await sleep(50)
    }
    if (!kill) {
      result.problems.push(`the kill point was never reached${answer instanceof Error ? `: ${answer.message}` : ''}`)
      result.log = logExcerpt(first.output())
      await first.stop()
      return result
    }
    const killed = await kill
    lap('toKill')
    result.killed = true
    result.processesKilled = killed.length
    result.killedProcesses = [...new Set(killed.map((info) => info.comm))].sort()

    // The restart: same storage, a new port, as a user (or a supervisor) would start it again.
    second = await startServerProcess(env)
    lap('restart')
    result.jobs = storedJobIds(storage)
    if (result.jobs.length === 0) result.problems.push('no job was stored before the kill')
    const waited = await waitTerminal(second, result.jobs, TERMINAL_WITHIN_MS, slot)
    if (waited.terminal) result.terminalMs = Math.round(waited.ms)
    else
      result.problems.push(
        `jobs not terminal ${TERMINAL_WITHIN_MS / 1000} s after the restart: ${waited.jobs.map((job) => `${job.jobId.slice(0, 8)} ${job.status} ${JSON.stringify(job.videos)}`).join('; ')}`,
      )
    for (const job of waited.jobs) {
      if (waited.terminal && job.status !== 'succeeded')
        result.problems.push(`job ${job.jobId.slice(0, 8)} ended ${job.status}: ${JSON.stringify(job.errors)}`)
    }
    lap('terminal')
    result.check = await checkStorage(second, storage, reference)
    lap('check')
    result.problems.push(...result.check.problems)

    // Ingesting the same URL again must work too, whatever state the crash left.
    await slot.take()
    lap('slotAgain')
    const again = await second.call<{ jobId: string }>('POST', '/v1/ingest', { url })
    if (again.status !== 202) {
      result.problems.push(`the re-ingest answered ${again.status}: ${JSON.stringify(again.body)}`)
    } else {
      const reingest = await waitTerminal(second, [again.body.jobId], TERMINAL_WITHIN_MS, slot)
      const job = reingest.jobs[0]!
      result.reingest = { status: job.status, ms: Math.round(reingest.ms) }
      if (!reingest.terminal)
        result.problems.push(
          `the re-ingest is not terminal after ${TERMINAL_WITHIN_MS / 1000} s: ${job.status} ${JSON.stringify(job.videos)}`,
        )
      else if (job.status !== 'succeeded' || job.videos.indexed !== Object.keys(reference.chunkCounts).length) {
        result.problems.push(
          `the re-ingest ended ${job.status} ${JSON.stringify(job.videos)} ${JSON.stringify(job.errors)}`,
        )
      }
      result.reingest.check = await checkStorage(second, storage, reference)
      for (const problem of result.reingest.check.problems) result.problems.push(`after the re-ingest: ${problem}`)
    }
    lap('reingest')
    // What the killed server's downloads left in its temp folder: the restarted server sweeps it.
    const leftovers = readdirSync(temp).filter((name) => name.startsWith('ytrag-'))
    result.tempLeftovers = leftovers.length
    if (leftovers.length > 0)
      result.problems.push(`scratch folders of the killed server were left in its TMPDIR: ${leftovers.join(', ')}`)
    if (result.problems.length > 0) result.log = logExcerpt(second.output())
    return result
  } catch (error) {
    result.problems.push(`the scenario broke: ${(error as Error).stack ?? error}`)
    result.log = logExcerpt((second ?? first)?.output() ?? '')
    return result
  } finally {
    for (const timer of timers) clearTimeout(timer)
    slot.release()
    await first?.stop().catch(() => undefined)
    await second?.stop().catch(() => undefined)
    await fixtures?.close().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
    lap('stop')
  }
}

/**
 * The clean run every scenario is held to: the playlist ingested with nothing killed.
 */
export async function cleanRun(
  videos: FixtureVideo[],
): Promise<Reference & { jobStatus: string; videoCount: number; storageDir: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-chaos-clean-'))
  const storage = join(dir, 'state')
  const fixtures = await startFixtureServer({
    videos,
    pages: [{ path: PLAYLIST_PATH, title: 'Chaos playlist', videos: videos.map((video) => video.name) }],
  })
  const server = await startServerProcess(serverEnv(storage, fixtures))
  try {
    const started = performance.now()
    const jobId = await server.ingest(fixtures.url(PLAYLIST_PATH))
    const job = await server.waitForJob(jobId)
    const durationMs = performance.now() - started
    const listed = (await getJson<{ items: VideoView[] }>(server, '/v1/videos?limit=100')).items
    const chunkCounts = Object.fromEntries(listed.map((video) => [video.videoId, video.chunkCount]))
    return {
      chunkCounts,
      blobs: blobFiles(storage),
      durationMs,
      jobStatus: job.status,
      videoCount: job.videos.indexed,
      storageDir: storage,
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    }
  } finally {
    await server.stop()
    await fixtures.close()
  }
}
