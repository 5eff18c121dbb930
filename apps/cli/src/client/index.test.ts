// The typed client against the real api function on loopback: answers come back typed, and
// every refusal as its class with the server's code, so a caller never reads the message.
import { api } from '@ytrag/api'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { hashApiKey } from '@ytrag/rate-limit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ApiConnectionError,
  ApiStatusError,
  AuthenticationError,
  BadRequestError,
  createClient,
  NotFoundError,
  RateLimitError,
  unwrap,
} from './index.ts'

describe('the typed API client', () => {
  let fn: FunctionUnderTest
  beforeAll(async () => {
    fn = await startFunctionUnderTest(api, {
      YOUTUBE_RAG__API__KEYS: hashApiKey('right-key'),
      YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '8',
      YOUTUBE_RAG__RATE_LIMIT__WINDOW_SECONDS: '600',
    })
  })
  afterAll(() => fn.close())

  it('gives typed answers, and each refusal as its class with the code the server sent', async () => {
    const client = createClient({ baseUrl: fn.url, apiKey: 'right-key' })
    const accepted = await unwrap(client.v1.ingest.$post({ json: { url: 'https://youtu.be/dQw4w9WgXcQ' } }))
    expect(accepted).toMatchObject({ status: 'queued', url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' })
    const job = await unwrap(client.v1.jobs[':jobId'].$get({ param: { jobId: accepted.jobId } }))
    expect(job.videos).toEqual({ total: 0, indexed: 0, failed: 0, skipped: 0 })

    const missing = await unwrap(client.v1.jobs[':jobId'].$get({ param: { jobId: 'no-such-job' } })).catch(
      (error: unknown) => error,
    )
    expect(missing).toBeInstanceOf(NotFoundError)
    expect(missing).toMatchObject({ status: 404, code: 'job_not_found' })

    const refused = await unwrap(client.v1.ingest.$post({ json: { url: 'https://evil.example/watch?v=x' } })).catch(
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(BadRequestError)
    expect(refused).toMatchObject({ status: 400, code: 'host_not_allowed' })

    const keyless = createClient({ baseUrl: fn.url })
    const unauthorized = await unwrap(keyless.v1.channels.$get()).catch((error: unknown) => error)
    expect(unauthorized).toBeInstanceOf(AuthenticationError)
    expect(unauthorized).toMatchObject({ status: 401, code: 'unauthorized' })
  })

  it('waits out a 429 as often as it is told, then throws RateLimitError', async () => {
    const waits: number[] = []
    const client = createClient({
      baseUrl: fn.url,
      apiKey: 'right-key',
      rateLimitRetries: 0,
      onRateLimited: (seconds) => waits.push(seconds),
    })
    let error: unknown
    for (let i = 0; i < 12 && !error; i++)
      error = await unwrap(client.v1.channels.$get()).then(
        () => undefined,
        (thrown: unknown) => thrown,
      )
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error).toBeInstanceOf(ApiStatusError)
    expect(error).toMatchObject({ status: 429, code: 'rate_limited' })
    expect(waits).toEqual([])
  })

  it('retries a 429 after the Retry-After the server sends', async () => {
    const limited = await startFunctionUnderTest(api, {
      YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '1',
      YOUTUBE_RAG__RATE_LIMIT__WINDOW_SECONDS: '1',
    })
    try {
      const waits: number[] = []
      const client = createClient({ baseUrl: limited.url, onRateLimited: (seconds) => waits.push(seconds) })
      for (let i = 0; i < 2; i++) expect(await unwrap(client.v1.channels.$get())).toEqual({ items: [] })
      expect(waits).toEqual([1])
    } finally {
      await limited.close()
    }
  })

  it('tells a server that is not there from one that refused', async () => {
    const client = createClient({ baseUrl: 'http://127.0.0.1:1' })
    const error = await unwrap(client.v1.channels.$get()).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(ApiConnectionError)
    expect((error as Error).message).toMatch(/no youtube-rag server answers at http:\/\/127\.0\.0\.1:1/)
  })
})
