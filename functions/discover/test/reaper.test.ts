// The reaper on the schedule's tick: a video that stopped moving gets its recorded handoff sent
// again (same ids), a limited number of times, then its stage fails and its job ends; a job whose
// discovery never finished fails once discover has had every try.
import { PING_EVENT_TYPE, requestForEvent } from '@ytrag/events'
import { videoLifecycle } from '@ytrag/function'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { CloudEvent } from 'cloudevents'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { discover } from '../src/index.ts'

const jobId = 'job-reaper'
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the reaper, on the PingSource tick', () => {
  let fn: FunctionUnderTest
  beforeEach(async () => {
    fn = await startFunctionUnderTest(discover, {
      YOUTUBE_RAG__REAPER__DOWNLOAD_TIMEOUT_SECONDS: '1',
      YOUTUBE_RAG__REAPER__TRANSCRIBE_TIMEOUT_SECONDS: '1',
      YOUTUBE_RAG__REAPER__INDEXER_TIMEOUT_SECONDS: '1',
      YOUTUBE_RAG__REAPER__DISCOVER_TIMEOUT_SECONDS: '0.5',
      YOUTUBE_RAG__REAPER__MAX_REDRIVES: '2',
    })
    const { documents } = fn.stores
    await documents.createJob({ jobId, url: 'https://www.youtube.com/playlist?list=PL1' })
    for (const videoId of ['stuck', 'indexed', 'failed'])
      await documents.insertVideo({ videoId, url: `https://www.youtube.com/watch?v=${videoId}` })
    await documents.addJobVideos(jobId, ['stuck', 'indexed', 'failed'])
    await documents.markJobDiscovered(jobId)
    await documents.updateVideo('indexed', 'index', 'done')
    await documents.updateVideo('failed', 'download', 'failed', { error: 'private video' })
  })
  afterEach(() => fn.close())

  const tick = async () => {
    const ping = new CloudEvent({
      type: PING_EVENT_TYPE,
      source: '/apis/v1/namespaces/youtube-rag/pingsources/resync-schedule',
      data: {},
    })
    expect((await fetch(requestForEvent(fn.url, ping))).status).toBe(202)
  }
  /** Discovery hands the video on, as discover does; the download that follows dies mid-way. */
  const strand = async () => {
    const lifecycle = videoLifecycle({
      stores: fn.stores,
      emit: async () => {},
      logger: { info() {}, warn() {} } as never,
    })
    const video = (await fn.stores.documents.getVideo('stuck'))!
    await lifecycle.discovered(video, { jobId, videoId: 'stuck', url: video.url, force: false })
    await fn.stores.documents.updateVideo('stuck', 'download', 'running')
  }

  it('sends the stuck video its handoff again, same id, once per timeout, then fails it with the reason', async () => {
    await strand()
    await tick()
    expect(fn.sink.events).toEqual([]) // not quiet for long enough yet

    await sleep(1100)
    await tick()
    expect(fn.sink.events.map((event) => [event.name, event.id])).toEqual([
      ['video.discovered', 'stuck/discover/0/video.discovered'],
    ])
    expect(fn.sink.events[0]!.data).toMatchObject({ jobId, videoId: 'stuck', generation: 0 })
    expect((await fn.stores.documents.getVideo('stuck'))?.redrives).toBe(1)
    await tick()
    expect(fn.sink.events).toHaveLength(1) // the re-send restarted its clock

    await sleep(1100)
    await tick()
    expect(fn.sink.events.map((event) => event.id)).toEqual([
      'stuck/discover/0/video.discovered',
      'stuck/discover/0/video.discovered',
    ])
    expect((await fn.stores.documents.getJob(jobId))?.status).toBe('running')

    await sleep(1100)
    await tick()
    const video = await fn.stores.documents.getVideo('stuck')
    expect(video).toMatchObject({ status: 'failed', stages: { download: { status: 'failed' } } })
    expect(video?.error).toMatch(
      /^stuck in download: no progress for \d+ s after 2 re-sends; ingest it again to retry$/,
    )
    expect(fn.sink.events.at(-1)).toMatchObject({
      name: 'video.failed',
      id: 'stuck/download/0/video.failed',
      data: { jobId, videoId: 'stuck', stage: 'download' },
    })
    expect(await fn.stores.documents.getJob(jobId)).toMatchObject({
      status: 'partial',
      videos: { total: 3, indexed: 1, failed: 2 },
    })

    // Finished videos are never touched.
    const sent = fn.sink.events.length
    await sleep(1100)
    await tick()
    expect(fn.sink.events).toHaveLength(sent)
  })

  it('leaves a video alone while it makes progress', async () => {
    await strand()
    for (let i = 0; i < 4; i++) {
      await sleep(400)
      await fn.stores.documents.updateVideo('stuck', 'download', 'running', { title: `progress ${i}` })
      await tick()
    }
    expect(fn.sink.events).toEqual([])
    expect((await fn.stores.documents.getVideo('stuck'))?.redrives).toBe(0)
  })

  it('fails a job whose discovery never finished once discover has had every try', async () => {
    await fn.stores.documents.createJob({ jobId: 'lost', url: 'https://www.youtube.com/watch?v=lost' })
    await tick()
    expect((await fn.stores.documents.getJob('lost'))?.status).toBe('queued')
    await sleep(1600) // discover's 0.5 s × (2 re-drives + 1)
    await tick()
    const job = await fn.stores.documents.getJob('lost')
    expect(job?.status).toBe('failed')
    expect(job?.errors[0]?.message).toMatch(
      /^discovery did not finish within 1\.5 s \(its request was lost\); ingest again$/,
    )
  })
})
