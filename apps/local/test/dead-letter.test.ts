import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEvent, requestForEvent } from '@ytrag/events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalServer, type LocalServer } from '../src/index.ts'

describe('a handler that keeps failing', () => {
  let server: LocalServer
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ytrag-dead-letter-'))
    server = await startLocalServer({
      env: {
        YOUTUBE_RAG__STORAGE__DIR: dir,
        YOUTUBE_RAG__SERVER__PORT: '0',
        YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.01',
        YOUTUBE_RAG__LOG__LEVEL: 'silent',
      },
    })
  })
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('is retried by the broker, then dead-lettered, and the job shows why', async () => {
    const { documents } = server.stores
    await documents.createJob({ jobId: 'job-dl', url: 'https://www.youtube.com/watch?v=abc' })
    await documents.insertVideo({ videoId: 'vid-dl', url: 'https://www.youtube.com/watch?v=vid-dl', title: 'Doomed' })
    await documents.addJobVideos('job-dl', ['vid-dl'])
    await documents.markJobDiscovered('job-dl')
    const before = server.broker.stats()

    // The transcript blob does not exist, so the indexer answers 500 on every attempt.
    await server.broker.send(
      createEvent('transcript.ready', {
        function: 'download',
        subject: 'vid-dl',
        data: {
          jobId: 'job-dl',
          videoId: 'vid-dl',
          blobKey: 'videos/vid-dl/transcript.json',
          source: 'captions',
          language: 'en',
        },
      }),
    )
    await server.broker.idle()

    const stats = server.broker.stats()
    expect(stats.retried - before.retried).toBe(3) // the Broker's `retry: 3` in knative/base
    expect(stats.deadLettered - before.deadLettered).toBe(1)
    const video = await documents.getVideo('vid-dl')
    expect(video?.status).toBe('failed')
    expect(video?.stages.index.status).toBe('failed')
    expect(video?.error).toMatch(/indexer/)
    expect(video?.error).toMatch(/HTTP 500/)
    expect(video?.error).toMatch(/transcript blob .* is missing/)

    const job = (await (await fetch(`${server.url}/v1/jobs/job-dl`)).json()) as {
      status: string
      videos: object
      errors: { videoId: string; message: string }[]
    }
    expect(job.status).toBe('failed')
    expect(job.videos).toEqual({ total: 1, indexed: 0, failed: 1, skipped: 0 })
    expect(job.errors).toEqual([expect.objectContaining({ videoId: 'vid-dl', message: video?.error })])
  })

  it('marks the job failed when discovery itself is dead-lettered', async () => {
    await server.stores.documents.createJob({ jobId: 'job-dl-2', url: 'https://www.youtube.com/watch?v=zzz' })
    // Delivered straight to the dead-letter function, as the broker does after the last retry.
    const event = createEvent('ingest.requested', {
      function: 'api',
      subject: 'job-dl-2',
      data: { jobId: 'job-dl-2', url: 'https://www.youtube.com/watch?v=zzz', force: false },
    }).cloneWith({
      knativeerrordest: 'http://discover.local/',
      knativeerrorcode: '500',
      knativeerrordata: Buffer.from('{"error":{"code":"handler_failed","message":"yt-dlp timed out"}}').toString(
        'base64',
      ),
    })
    const answer = await fetch(requestForEvent(server.functionUrls['dead-letter']!, event))
    expect(answer.status).toBe(202)
    const job = await server.stores.documents.getJob('job-dl-2')
    expect(job?.status).toBe('failed')
    expect(job?.errors[0]?.message).toBe('delivery to discover failed after every retry (HTTP 500): yt-dlp timed out')
  })
})
