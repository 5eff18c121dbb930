// The same fixture playlist as the embedded end-to-end test, with `npm start` pointed at the
// production adapters: documents in FerretDB (MongoDB protocol), blobs in s3rver (S3), rate
// limits in the running Redis, embeddings and answers from the OpenAI-compatible test server.
// (Qdrant cannot run here; its adapter has its own suites, see the README.)
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import { blobKeys } from '@ytrag/stores'
import { S3BlobStore } from '@ytrag/stores/s3'
import { startS3rver, type RunningS3rver } from '@ytrag/stores/testing'
import { pennyFarthingCue, startFixtureServer, type FixtureServer } from '@ytrag/youtube/fixtures'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type {} from '../../../vitest.global-setup/ferretdb.ts'
import { startServerProcess, type Hit, type ServerProcess } from './server-process.ts'

const REDIS = { host: '127.0.0.1', port: 6379 }

/** Redis must already run (CI checks it); a clear message beats a limiter error at start-up. */
const redisAnswers = () =>
  new Promise<boolean>((done) => {
    const socket = connect(REDIS, () => socket.write('PING\r\n'))
    socket.once('data', (data) => {
      socket.destroy()
      done(data.toString().startsWith('+PONG'))
    })
    socket.once('error', () => done(false))
  })

describe('npm start with MongoDB (FerretDB), S3 (s3rver), Redis and an OpenAI-compatible API', () => {
  let fixtures: FixtureServer
  let s3: RunningS3rver
  let openai: OpenAiTestServer
  let server: ServerProcess
  let mongo: MongoClient
  let dir: string
  const database = `ytrag_e2e_${randomUUID().slice(0, 8)}`
  const bucket = `ytrag-e2e-${randomUUID().slice(0, 8)}`

  beforeAll(async () => {
    if (!(await redisAnswers()))
      throw new Error(`Redis does not answer at ${REDIS.host}:${REDIS.port}: start it (see .ci/run) before the tests`)
    ;[fixtures, s3, openai] = await Promise.all([startFixtureServer(), startS3rver(), startOpenAiTestServer()])
    mongo = new MongoClient(inject('mongodbUrl'), { serverSelectionTimeoutMS: 5000 })
    dir = mkdtempSync(join(tmpdir(), 'ytrag-e2e-prod-'))
    server = await startServerProcess({
      YOUTUBE_RAG__STORAGE__DIR: dir,
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: `www.youtube.com,youtu.be,${fixtures.host}`,
      YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.05',
      YOUTUBE_RAG__LOG__LEVEL: 'warn',
      DOCUMENT_DB__PROVIDER: 'mongodb',
      YOUTUBE_RAG__DOCUMENT_DB__URI: inject('mongodbUrl'),
      YOUTUBE_RAG__DOCUMENT_DB__NAME: database,
      BLOB_STORAGE__PROVIDER: 's3',
      BLOB_STORAGE__ENDPOINT: s3.endpoint,
      YOUTUBE_RAG__BLOB_STORAGE__BUCKET: bucket,
      YOUTUBE_RAG__BLOB_STORAGE__ACCESS_KEY_ID: s3.credentials.accessKeyId,
      YOUTUBE_RAG__BLOB_STORAGE__SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      YOUTUBE_RAG__RATE_LIMIT__PROVIDER: 'redis',
      YOUTUBE_RAG__RATE_LIMIT__REDIS_URL: `redis://${REDIS.host}:${REDIS.port}`,
      YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '10000',
      YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
      YOUTUBE_RAG__OPENAI__EMBEDDING_DIMENSIONS: '64',
      OPENAI_API_KEY: '',
    })
  }, 120_000)

  afterAll(async () => {
    await server?.stop()
    await mongo
      ?.db(database)
      .dropDatabase()
      .catch(() => {})
    await mongo?.close()
    await Promise.all([fixtures?.close(), s3?.close(), openai?.close()])
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const s3Keys = (prefix: string) =>
    s3.requests
      .filter((request) => request.method === 'PUT' && request.url.startsWith(`/${bucket}/${prefix}`))
      .map((request) => request.url.split('?')[0])

  it('ingests the fixture playlist: three videos from their captions, the one without through speech-to-text', async () => {
    const started = performance.now()
    const job = await server.waitForJob(await server.ingest(fixtures.url('/all.html')))
    console.log(
      `fixture playlist on FerretDB + s3rver + Redis + test OpenAI server: ${((performance.now() - started) / 1000).toFixed(1)} s`,
    )
    expect(job.status, server.output().slice(-2000)).toBe('succeeded')
    expect(job.videos).toEqual({ total: 4, indexed: 4, failed: 0, skipped: 0 })
    // The silent clip has no captions; with a speech-to-text provider it is transcribed instead of failing.
    const silent = (await server.call<{ transcript: { source: string } }>('GET', '/v1/videos/all-4')).body
    expect(silent.transcript.source).toBe('speech-to-text')
    expect(openai.audio).toHaveLength(1)
  }, 120_000)

  it('kept the documents in MongoDB, the caption files and transcripts in S3, and embedded every chunk', async () => {
    const videos = await mongo
      .db(database)
      .collection('videos')
      .find({}, { projection: { _id: 0, videoId: 1, 'stages.index.status': 1 } })
      .sort({ videoId: 1 })
      .toArray()
    expect(videos).toEqual(
      ['all-1', 'all-2', 'all-3', 'all-4'].map((videoId) => ({ videoId, stages: { index: { status: 'done' } } })),
    )
    expect(await mongo.db(database).collection('jobs').countDocuments()).toBe(1)
    for (const id of ['all-1', 'all-2', 'all-3']) expect(s3Keys(`videos/${id}/`).length, id).toBeGreaterThanOrEqual(2)
    // The silent clip's audio segment and its transcription went to S3 too.
    expect(s3Keys('videos/all-4/audio/')).toEqual(
      expect.arrayContaining([
        `/${bucket}/videos/all-4/audio/segment-0.ogg`,
        `/${bucket}/videos/all-4/audio/segment-0.json`,
      ]),
    )
    const embedded = openai.requests
      .filter((request) => request.path === '/v1/embeddings')
      .flatMap((request) => (request.body as { input: string[]; dimensions: number }).input)
    const chunkCounts = await Promise.all(
      ['all-1', 'all-2', 'all-3', 'all-4'].map(
        async (id) => (await server.call<{ chunkCount: number }>('GET', `/v1/videos/${id}`)).body.chunkCount,
      ),
    )
    expect(embedded.length).toBe(chunkCounts.reduce((a, b) => a + b, 0))
  })

  it('finds the moment and answers generatively, citing it', async () => {
    const [hit] = await server.search(pennyFarthingCue.phrase)
    expect(hit?.text.toLowerCase()).toContain(pennyFarthingCue.phrase)
    expect(hit!.start).toBeLessThanOrEqual(pennyFarthingCue.startSeconds)
    expect(hit!.start).toBeGreaterThanOrEqual(pennyFarthingCue.startSeconds - 20)
    const { body, headers } = await server.call<{ answer: string; mode: string; citations: (Hit & { n: number })[] }>(
      'POST',
      '/v1/ask',
      { question: pennyFarthingCue.question },
    )
    expect(headers.get('ratelimit-limit')).toBe('10000')
    expect(body.mode).toBe('generative')
    expect(body.answer).toMatch(/\[1\]$/)
    expect(body.citations).toHaveLength(1)
    expect(body.citations[0]!.text.toLowerCase()).toContain(pennyFarthingCue.phrase)
    expect(body.citations[0]!.url).toBe(`${fixtures.url('/all.html')}#t=${Math.floor(body.citations[0]!.moment)}`)
  })

  it('duplicates nothing when the playlist is ingested again', async () => {
    const again = await server.waitForJob(await server.ingest(fixtures.url('/all.html')))
    expect(again.videos).toEqual({ total: 4, indexed: 4, failed: 0, skipped: 0 })
    expect(await mongo.db(database).collection('videos').countDocuments()).toBe(4)
    expect(await mongo.db(database).collection('jobs').countDocuments()).toBe(2)
  })

  it('deletes a video from every store', async () => {
    const deleted = await server.call<{ deleted: boolean; chunks: number }>('DELETE', '/v1/videos/all-3')
    expect(deleted.status).toBe(200)
    expect(await mongo.db(database).collection('videos').countDocuments({ videoId: 'all-3' })).toBe(0)
    const blobs = new S3BlobStore({ bucket, endpoint: s3.endpoint, credentials: s3.credentials })
    expect(await blobs.head(blobKeys.transcript('all-3'))).toBeUndefined()
    expect(await blobs.head(blobKeys.transcript('all-2'))).toEqual({ size: expect.any(Number) })
    await blobs.close()
    expect((await server.search(pennyFarthingCue.phrase)).filter((hit) => hit.videoId === 'all-3')).toEqual([])
    expect((await server.call('GET', '/v1/videos/all-3/transcript')).status).toBe(404)
  })

  it('reports the blob store by name when S3 goes away', async () => {
    await s3.close()
    const { status, body } = await server.call<{ message: string; failing: Record<string, string> }>(
      'GET',
      '/health/ready',
    )
    expect(status).toBe(503)
    expect(body.message).toBe('not ready: blobs store (s3) is down')
    expect(Object.keys(body.failing)).toEqual(['blobs'])
  })
})
