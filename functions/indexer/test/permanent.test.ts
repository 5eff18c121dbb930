// Failures no retry can mend answer 422, which the broker does not retry: the event goes to
// dead-letter at once instead of being retried until its attempts run out.
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { blobKeys } from '@ytrag/stores'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { indexer } from '../src/index.ts'

const videoId = 'vid-permanent-1'
const jobId = 'job-permanent-1'

describe('indexer: permanent failures', () => {
  let fn: FunctionUnderTest
  beforeEach(async () => {
    fn = await startFunctionUnderTest(indexer)
    await fn.stores.documents.createJob({ jobId, url: 'https://www.youtube.com/watch?v=x' })
    await fn.stores.documents.insertVideo({
      videoId,
      url: `https://www.youtube.com/watch?v=${videoId}`,
      title: 'A talk',
    })
    await fn.stores.documents.addJobVideos(jobId, [videoId])
  })
  afterEach(() => fn.close())

  const errorOf = async (response: Response) =>
    ((await response.json()) as { error: { code: string; message: string } }).error

  it.each([
    ['a traversal', '../../etc/passwd'],
    ['an absolute path', '/etc/passwd'],
    ['a dot segment', 'videos/./x.json'],
  ])('answers 422 unprocessable_event for a blob key that is %s', async (_, blobKey) => {
    const answer = await fn.deliver('transcript.ready', videoId, {
      jobId,
      videoId,
      blobKey,
      source: 'captions',
      language: 'en',
    })
    expect(answer.status).toBe(422)
    const error = await errorOf(answer)
    expect(error.code).toBe('unprocessable_event')
    expect(error.message).toMatch(/Invalid blob key/)
    expect(fn.sink.events).toEqual([])
  })

  it('answers 422 for a transcript blob that is not JSON, naming the blob', async () => {
    await fn.stores.blobs.put(blobKeys.transcript(videoId), 'not json at all')
    const answer = await fn.deliver('transcript.ready', videoId, {
      jobId,
      videoId,
      blobKey: blobKeys.transcript(videoId),
      source: 'captions',
      language: 'en',
    })
    expect(answer.status).toBe(422)
    const error = await errorOf(answer)
    expect(error.code).toBe('unprocessable_event')
    expect(error.message).toContain(blobKeys.transcript(videoId))
    expect(await fn.stores.chunks.countVideo(videoId)).toBe(0)
  })

  // JSON of the wrong shape (an older writer, a hand edit): without a check it failed inside
  // the handler with a TypeError and a 500, retried until dead-lettered.
  it.each([
    ['no segments', { videoId, source: 'captions', language: 'en' }, /segments/],
    ['segments that are not a list', { videoId, source: 'captions', language: 'en', segments: 'x' }, /segments/],
    [
      'a segment without a time',
      { videoId, source: 'captions', language: 'en', segments: [{ text: 'hi', end: 1 }] },
      /segments\.0\.start/,
    ],
    ['an unknown source', { videoId, source: 'telepathy', language: 'en', segments: [] }, /source/],
    ['an array', [1, 2, 3], /expected object/],
  ])('answers 422 for a transcript blob with %s, saying what is wrong', async (_, content, where) => {
    await fn.stores.blobs.put(blobKeys.transcript(videoId), JSON.stringify(content))
    const answer = await fn.deliver('transcript.ready', videoId, {
      jobId,
      videoId,
      blobKey: blobKeys.transcript(videoId),
      source: 'captions',
      language: 'en',
    })
    expect(answer.status).toBe(422)
    const error = await errorOf(answer)
    expect(error.code).toBe('unprocessable_event')
    expect(error.message).toContain(blobKeys.transcript(videoId))
    expect(error.message).toMatch(where)
    expect(await fn.stores.chunks.countVideo(videoId)).toBe(0)
    expect(fn.sink.events).toEqual([])
  })
})
