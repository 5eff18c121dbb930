// discover when YouTube refuses this server: a recorded yt-dlp at TOOLS__YTDLP_PATH answers
// with the bot check, and the job fails saying which settings answer it.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { recordedYtDlp, type RecordedYtDlp } from '@ytrag/youtube/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discover } from '../src/index.ts'

describe("discover and YouTube's bot check", () => {
  let dir: string
  let ytdlp: RecordedYtDlp
  let fn: FunctionUnderTest
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ytrag-discover-blocked-'))
    ytdlp = await recordedYtDlp(join(dir, 'yt-dlp'), {
      version: '2025.11.12',
      reply: {
        stderr:
          "ERROR: [youtube:tab] @some: Unable to download webpage: HTTP Error 429: Too Many Requests (caused by <HTTPError 429: 'Too Many Requests'>)\n",
        exitCode: 1,
      },
    })
    fn = await startFunctionUnderTest(discover, { YOUTUBE_RAG__TOOLS__YTDLP_PATH: ytdlp.path })
  })
  afterAll(async () => {
    await fn.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('fails the job with the advice, answers 2xx and backs YouTube off; the next job fails at once without yt-dlp', async () => {
    const url = 'https://www.youtube.com/@some/videos'
    await fn.stores.documents.createJob({ jobId: 'job-1', url })
    expect((await fn.deliver('ingest.requested', 'job-1', { jobId: 'job-1', url, force: false })).status).toBe(202)
    const job = await fn.stores.documents.getJob('job-1')
    expect(job?.status).toBe('failed')
    expect(job?.errors[0]?.message).toMatch(
      /^yt-dlp could not read https:\/\/www\.youtube\.com\/@some\/videos: .*HTTP Error 429: Too Many Requests.*YOUTUBE_RAG__YTDLP__COOKIES_FILE.*YOUTUBE_RAG__YTDLP__PROXY/,
    )
    expect(await fn.stores.documents.hostBackoff('www.youtube.com', new Date())).toMatchObject({
      reason: expect.stringContaining('HTTP Error 429'),
    })

    const runs = (await ytdlp.runs()).length
    await fn.stores.documents.createJob({ jobId: 'job-2', url: 'https://m.youtube.com/playlist?list=PL1' })
    expect(
      (
        await fn.deliver('ingest.requested', 'job-2', {
          jobId: 'job-2',
          url: 'https://m.youtube.com/playlist?list=PL1',
          force: false,
        })
      ).status,
    ).toBe(202)
    const next = await fn.stores.documents.getJob('job-2')
    expect(next?.status).toBe('failed')
    expect(next?.errors[0]?.message).toMatch(
      /^www\.youtube\.com is left alone until .* after .*HTTP Error 429.*; nothing was sent to it\. .*YOUTUBE_RAG__YTDLP__SLEEP_REQUESTS_SECONDS/,
    )
    expect((await ytdlp.runs()).length).toBe(runs)
    expect(fn.sink.events).toEqual([])
  })
})
