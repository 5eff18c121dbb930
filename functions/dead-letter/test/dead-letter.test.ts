// dead-letter acts only on what Knative dead-lettered, and only for the subscribers that own a
// stage: anything else is refused or changes nothing.
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { createEvent, requestForEvent, type EventData, type EventName } from '@ytrag/events'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { deadLetter } from '../src/index.ts'

const jobId = 'job-dl'

describe('dead-letter over HTTP', () => {
  let fn: FunctionUnderTest
  beforeEach(async () => {
    fn = await startFunctionUnderTest(deadLetter)
    const { documents } = fn.stores
    await documents.createJob({ jobId, url: 'https://www.youtube.com/playlist?list=PL1' })
    for (const videoId of ['indexed', 'downloading'])
      await documents.insertVideo({ videoId, url: `https://www.youtube.com/watch?v=${videoId}` })
    await documents.addJobVideos(jobId, ['indexed', 'downloading'])
    await documents.markJobDiscovered(jobId)
    await documents.updateVideo('indexed', 'download', 'done', {
      stages: { transcribe: 'skipped', index: 'done' },
      chunkCount: 4,
    })
    await documents.updateVideo('downloading', 'download', 'running')
  })
  afterEach(() => fn.close())

  /** Posts the event as Knative's dead-letter sink receives it, attributes given (none: a plain event). */
  const post = <N extends EventName>(name: N, data: EventData<N>, attributes: Record<string, string> = {}) => {
    const event = createEvent(name, {
      function: 'test',
      subject: String((data as { videoId?: string }).videoId ?? jobId),
      data,
    }).cloneWith(attributes)
    return fetch(requestForEvent(fn.url, event))
  }
  const failedDelivery = (service: string, message = 'boom') => ({
    knativeerrordest: `http://${service}.youtube-rag.svc.cluster.local`,
    knativeerrorcode: '500',
    knativeerrordata: Buffer.from(JSON.stringify({ error: { code: 'handler_failed', message } })).toString('base64'),
  })
  const discovered = (videoId: string, extra: object = {}) => ({
    jobId,
    videoId,
    url: `https://www.youtube.com/watch?v=${videoId}`,
    force: false,
    ...extra,
  })

  it('refuses an event without Knative error attributes with 400 and changes nothing', async () => {
    const before = await fn.stores.documents.getVideo('downloading')
    const answer = await post('video.discovered', discovered('downloading'))
    expect(answer.status).toBe(400)
    expect(((await answer.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'invalid_event',
      message: expect.stringMatching(/knativeerrordest/),
    })
    expect(await fn.stores.documents.getVideo('downloading')).toEqual(before)
    expect((await fn.stores.documents.getJob(jobId))?.status).toBe('running')
  })

  it('changes nothing for a dead-lettered delivery to a subscriber that owns no stage (the api logs outcomes)', async () => {
    const before = await fn.stores.documents.getVideo('indexed')
    expect(
      (await post('video.indexed', { jobId, videoId: 'indexed', chunkCount: 4 }, failedDelivery('api'))).status,
    ).toBe(202)
    expect(
      (
        await post(
          'video.failed',
          { jobId, videoId: 'downloading', stage: 'download', reason: 'x' },
          failedDelivery('api'),
        )
      ).status,
    ).toBe(202)
    expect(await fn.stores.documents.getVideo('indexed')).toEqual(before)
    expect((await fn.stores.documents.getVideo('downloading'))?.status).toBe('downloading')
  })

  it('changes nothing when the stage got done after all (another delivery of the same event)', async () => {
    const before = await fn.stores.documents.getVideo('indexed')
    const transcript = {
      jobId,
      videoId: 'indexed',
      blobKey: 'videos/indexed/transcript.json',
      source: 'captions' as const,
      language: 'en',
    }
    expect((await post('transcript.ready', transcript, failedDelivery('indexer'))).status).toBe(202)
    expect(await fn.stores.documents.getVideo('indexed')).toEqual(before)
  })

  it('changes nothing for an event of an earlier run of the video', async () => {
    const reset = await fn.stores.documents.resetVideo('downloading')
    await fn.stores.documents.updateVideo('downloading', 'download', 'running')
    expect(
      (
        await post(
          'video.discovered',
          discovered('downloading', { generation: reset!.generation - 1 }),
          failedDelivery('download'),
        )
      ).status,
    ).toBe(202)
    expect((await fn.stores.documents.getVideo('downloading'))?.status).toBe('downloading')
  })

  it('fails the stage its subscriber owns with the reason, records video.failed and sends nothing', async () => {
    expect(
      (
        await post(
          'video.discovered',
          discovered('downloading', { generation: 0 }),
          failedDelivery('download', 'yt-dlp timed out'),
        )
      ).status,
    ).toBe(202)
    const video = await fn.stores.documents.getVideo('downloading')
    expect(video).toMatchObject({
      status: 'failed',
      error: 'delivery to download failed after every retry (HTTP 500): yt-dlp timed out',
      stages: { download: { status: 'failed' } },
    })
    expect(video?.handoff?.events.map((event) => event.name)).toEqual(['video.failed'])
    expect(fn.sink.events).toEqual([])
    expect(await fn.stores.documents.getJob(jobId)).toMatchObject({
      status: 'partial',
      videos: { total: 2, indexed: 1, failed: 1 },
    })
  })
})
