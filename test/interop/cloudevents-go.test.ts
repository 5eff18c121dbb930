// Our CloudEvents checked by another implementation: the CNCF Go SDK (sdk-go v2, the one
// Knative's own components are written with) sends events to a function over real HTTP, in
// binary and in structured mode, and receives what the function sends on (as the Broker's
// ingress would). Our strict envelope must take everything a conforming client sends, and
// what we send must be a valid CloudEvent to someone else's parser.
//
// Needs Go (the machine's /usr/local/go, or `go` on PATH); the module's dependencies come from
// the Go module proxy on the first run and from Go's cache after that.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import type { StoredTranscript } from '@ytrag/domain'
import { blobKeys, transcriptBlob } from '@ytrag/stores'
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest'
import { indexer } from '../../functions/indexer/src/index.ts'

const moduleDir = fileURLToPath(new URL('./cloudevents-go/', import.meta.url))
const goBinary = ['/usr/local/go/bin/go', 'go'].find((candidate) =>
  candidate.includes('/') ? existsSync(candidate) : spawnSync('sh', ['-c', `command -v ${candidate}`]).status === 0,
)
if (!goBinary) console.warn('test/interop/cloudevents-go skipped: no Go toolchain (install Go, or put go on PATH)')

type Received = {
  id: string
  type: string
  source: string
  specversion: string
  subject: string
  datacontenttype: string
  data: Record<string, unknown>
  encoding: string
}
type Sent = { status: number; accepted?: boolean; error?: string }

const run = promisify(execFile)
const TRANSCRIPT_READY = 'io.youtube-rag.transcript.ready.v1'

// Skipped only where no Go toolchain is installed (the warning above says so); this machine and CI have /usr/local/go.
describe.skipIf(!goBinary)('CloudEvents with the Go SDK (sdk-go v2) on both sides of a function', () => {
  let work: string
  let program: string
  let sink: ChildProcess
  let sinkUrl: string
  const received: Array<Received | { refused: string }> = []

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ytrag-cloudevents-go-'))
    program = join(work, 'cloudevents-go')
    const built = spawnSync(goBinary!, ['build', '-o', program, '.'], {
      cwd: moduleDir,
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    })
    if (built.status !== 0) throw new Error(`go build failed: ${built.stderr}`)
    sink = spawn(program, ['sink'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const lines = createInterface({ input: sink.stdout! })
    sinkUrl = await new Promise<string>((resolve) => {
      lines.on('line', (line) => {
        const listening = /^listening (\S+)$/.exec(line)
        if (listening) resolve(listening[1]!)
        else received.push(JSON.parse(line))
      })
    })
  }, 300_000)
  afterAll(() => {
    sink?.kill()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  /**
   * Sends one event with the Go SDK's HTTP client and gives the status it got. Asynchronously:
   * the function under test answers from this very process.
   */
  const sendWithGo = async (
    target: string,
    encoding: 'binary' | 'structured',
    event: { type: string; id: string; subject?: string; data: unknown; ext?: Record<string, string> },
  ): Promise<Sent> => {
    const args = [
      'send',
      '-target',
      target,
      '-encoding',
      encoding,
      '-type',
      event.type,
      '-id',
      event.id,
      '-data',
      JSON.stringify(event.data),
    ]
    if (event.subject) args.push('-subject', event.subject)
    for (const [name, value] of Object.entries(event.ext ?? {})) args.push('-ext', `${name}=${value}`)
    const { stdout } = await run(program, args)
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Sent
  }

  const until = async (check: () => boolean, what: string) => {
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (check()) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`timed out waiting for ${what}`)
  }

  let fn: FunctionUnderTest
  const jobId = 'job-go'
  beforeEach(async () => {
    fn = await startFunctionUnderTest(indexer, {}, { sinkUrl })
    await fn.stores.documents.createJob({ jobId, url: 'https://www.youtube.com/watch?v=x' })
  })
  afterEach(() => fn.close())

  /** A video ready for the indexer: its transcript stored, as the download function leaves it. */
  const readyVideo = async (videoId: string) => {
    await fn.stores.documents.insertVideo({
      videoId,
      url: `https://www.youtube.com/watch?v=${videoId}`,
      title: 'Penny-farthings',
    })
    await fn.stores.documents.addJobVideos(jobId, [videoId])
    const transcript: StoredTranscript = {
      videoId,
      source: 'captions',
      language: 'en',
      segments: [
        { start: 0, end: 4, text: 'The penny-farthing had a very large front wheel.' },
        { start: 4, end: 9, text: 'Riders sat high above it, which made falls dangerous.' },
      ],
    }
    await transcriptBlob.write(fn.stores.blobs, transcript)
    return { jobId, videoId, blobKey: blobKeys.transcript(videoId), source: 'captions', language: 'en' }
  }

  for (const encoding of ['binary', 'structured'] as const) {
    it(`takes a transcript.ready the Go SDK sends in ${encoding} mode, and what it sends on is a valid CloudEvent to the Go SDK`, async () => {
      const videoId = `go-${encoding}`
      const data = await readyVideo(videoId)
      const answer = await sendWithGo(fn.url, encoding, {
        type: TRANSCRIPT_READY,
        id: `go-${encoding}-1`,
        subject: videoId,
        data,
      })
      expect(answer).toEqual({ status: 202, accepted: true })
      expect(await fn.stores.chunks.countVideo(videoId)).toBeGreaterThan(0)
      await until(
        () => received.some((event) => 'id' in event && event.subject === videoId),
        `video.indexed of ${videoId} at the Go sink`,
      )
      const indexed = received.find((event): event is Received => 'id' in event && event.subject === videoId)!
      expect(indexed).toMatchObject({
        id: `${videoId}/index/0/video.indexed`,
        type: 'io.youtube-rag.video.indexed.v1',
        source: '/functions/indexer',
        specversion: '1.0',
        datacontenttype: 'application/json',
        data: { jobId, videoId, chunkCount: expect.any(Number) },
      })
      expect(received.filter((event) => 'refused' in event)).toEqual([])
    })
  }

  it('answers a redelivery (same id, as the Broker retries) with 202 and the same event sent on, once indexed', async () => {
    const videoId = 'go-redelivered'
    const data = await readyVideo(videoId)
    const first = await sendWithGo(fn.url, 'binary', {
      type: TRANSCRIPT_READY,
      id: 'go-redelivered-1',
      subject: videoId,
      data,
    })
    const chunks = await fn.stores.chunks.countVideo(videoId)
    const again = await sendWithGo(fn.url, 'structured', {
      type: TRANSCRIPT_READY,
      id: 'go-redelivered-1',
      subject: videoId,
      data,
      ext: { knativearrivaltime: new Date().toISOString() },
    })
    expect([first.status, again.status]).toEqual([202, 202])
    expect(await fn.stores.chunks.countVideo(videoId)).toBe(chunks)
    await until(
      () => received.filter((event) => 'id' in event && event.subject === videoId).length === 2,
      'both sends of video.indexed',
    )
    const ids = received
      .filter((event): event is Received => 'id' in event && event.subject === videoId)
      .map((event) => event.id)
    expect(new Set(ids)).toEqual(new Set([`${videoId}/index/0/video.indexed`]))
  })

  it.each([
    [
      'a type the function does not take',
      {
        type: 'io.youtube-rag.video.discovered.v1',
        data: { jobId, videoId: 'x', url: 'https://www.youtube.com/watch?v=x' },
      },
      400,
    ],
    ['data of the wrong shape', { type: TRANSCRIPT_READY, data: { jobId, videoId: 'x' } }, 400],
    [
      'a blob key outside the store',
      {
        type: TRANSCRIPT_READY,
        data: { jobId, videoId: 'x', blobKey: '../../etc/passwd', source: 'captions', language: 'en' },
      },
      422,
    ],
  ])('refuses %s with a 4xx the Go SDK reports as a NACK, not a retryable 5xx', async (_, event, status) => {
    // The video exists: an event about a video that is not there is dropped with 202 (it was deleted).
    await readyVideo('x')
    const answer = await sendWithGo(fn.url, 'binary', { ...event, id: `go-refused-${status}` })
    expect(answer).toEqual({ status, accepted: false })
  })
})
