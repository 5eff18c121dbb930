import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hashedEmbedding, silentWav, startOpenAiTestServer, type OpenAiTestServer } from '../testing/index.ts'
import { languageCode } from './languages.ts'
import { EMBEDDING_LIMITS, estimateTokens, openAiProviders, planEmbeddingBatches, ProviderError } from './index.ts'

const bodyOf = (request: { body: unknown }) =>
  request.body as { input: string[]; encoding_format?: string; model: string; stream?: boolean }

describe('openAiProviders configuration', () => {
  it('configures nothing without an API key or a base URL', () => {
    expect(openAiProviders()).toEqual({})
    expect(openAiProviders({ apiKey: '', baseUrl: '' })).toEqual({})
  })

  it('configures all three providers with the default models', () => {
    const providers = openAiProviders({ apiKey: 'sk-test' })
    expect([providers.embeddings?.model, providers.chat?.model, providers.speechToText?.model]).toEqual([
      'text-embedding-3-small',
      'gpt-4o-mini',
      'whisper-1',
    ])
  })

  it('talks to a keyless local server with a placeholder key, and sends a real key when given', async () => {
    const server = await startOpenAiTestServer()
    try {
      await openAiProviders({ baseUrl: server.baseUrl }).embeddings!.embed(['hello'])
      expect(server.requests[0]?.headers.authorization).toBe('Bearer no-key-needed')
      const strict = await startOpenAiTestServer({ apiKey: 'sk-right' })
      try {
        await expect(
          openAiProviders({ baseUrl: strict.baseUrl, apiKey: 'sk-wrong', maxRetries: 0 }).embeddings!.embed(['x']),
        ).rejects.toMatchObject({ status: 401, retryable: false })
        await expect(
          openAiProviders({ baseUrl: strict.baseUrl, apiKey: 'sk-right' }).embeddings!.embed(['x']),
        ).resolves.toHaveLength(1)
      } finally {
        await strict.close()
      }
    } finally {
      await server.close()
    }
  })
})

describe('embedding batches', () => {
  it('estimates a token per 4 characters', () => {
    expect([estimateTokens(''), estimateTokens('abcd'), estimateTokens('abcde')]).toEqual([0, 1, 2])
  })

  it('cuts at 2,048 inputs a request', () => {
    const { batches } = planEmbeddingBatches(Array.from({ length: 3000 }, (_, i) => `text ${i}`))
    expect(batches.map((batch) => [batch.start, batch.inputs.length])).toEqual([
      [0, 2048],
      [2048, 952],
    ])
  })

  it('cuts at 300,000 estimated tokens a request', () => {
    const texts = Array.from({ length: 100 }, () => 'x'.repeat(16_000)) // 4,000 tokens each
    const { batches } = planEmbeddingBatches(texts)
    expect(batches.map((batch) => batch.inputs.length)).toEqual([75, 25])
    for (const batch of batches)
      expect(batch.inputs.reduce((sum, text) => sum + estimateTokens(text), 0)).toBeLessThanOrEqual(
        EMBEDDING_LIMITS.maxRequestTokens,
      )
  })

  it('truncates a text over 8,191 tokens instead of failing its batch, and sends a space for an empty text', () => {
    const { batches, truncated } = planEmbeddingBatches(['short', 'y'.repeat(40_000), ''])
    expect(truncated).toEqual([1])
    expect(batches[0]?.inputs.map((text) => text.length)).toEqual([5, 8191 * 4, 1])
  })

  it('never splits a surrogate pair when truncating', () => {
    const text = `a${'😀'.repeat(20)}`
    const { batches } = planEmbeddingBatches([text], { maxInputs: 10, maxRequestTokens: 100, maxInputTokens: 1 })
    expect(batches[0]?.inputs[0]).toBe('a😀'.slice(0, 3)) // 4 chars would cut the second emoji in half
  })
})

describe('OpenAI embeddings against the test server', () => {
  let server: OpenAiTestServer
  beforeAll(async () => {
    server = await startOpenAiTestServer({ embeddingDimensions: 16, reverseEmbeddingOrder: true })
  })
  afterEach(() => server.reset())
  afterAll(() => server.close())

  it('embeds 3,000 texts in two requests, in order, each vector matched to its text by index', async () => {
    const texts = Array.from({ length: 3000 }, (_, i) => `chunk number ${i} about topic ${i % 7}`)
    const vectors = await openAiProviders({ baseUrl: server.baseUrl }).embeddings!.embed(texts)
    expect(server.requests.map((request) => bodyOf(request).input.length)).toEqual([2048, 952])
    expect(server.requests.map((request) => bodyOf(request).input[0])).toEqual([texts[0], texts[2048]])
    // The server answers in reverse order; the provider re-orders by `index`.
    expect(vectors).toHaveLength(3000)
    for (const i of [0, 1, 2047, 2048, 2999]) {
      for (const [d, value] of vectors[i]!.entries()) expect(value).toBeCloseTo(hashedEmbedding(texts[i]!, 16)[d]!, 6)
    }
    // The SDK asks for base64 (a quarter of the JSON) and decodes it.
    expect(bodyOf(server.requests[0]!).encoding_format).toBe('base64')
  })

  it('splits large texts by the token budget and keeps their order', async () => {
    const texts = Array.from({ length: 100 }, (_, i) => `${i} `.padEnd(16_000, `word${i} `))
    const vectors = await openAiProviders({ baseUrl: server.baseUrl }).embeddings!.embed(texts)
    expect(server.requests.map((request) => bodyOf(request).input.length)).toEqual([75, 25])
    expect(server.requests.map((request) => request.status)).toEqual([200, 200])
    expect(vectors[99]![0]).toBeCloseTo(hashedEmbedding(texts[99]!, 16)[0]!, 6)
  })

  it('truncates an over-long text with a warning; the server would refuse it whole', async () => {
    const warnings: string[] = []
    const vectors = await openAiProviders({
      baseUrl: server.baseUrl,
      onWarning: (message) => warnings.push(message),
    }).embeddings!.embed(['a', 'long '.repeat(8_000)])
    expect(vectors).toHaveLength(2)
    expect(bodyOf(server.requests[0]!).input[1]).toHaveLength(8191 * 4)
    expect(warnings).toEqual([expect.stringContaining('truncated 1 input(s)')])
  })

  it('halves a batch the server finds over its token limit (the estimate was low) and tries again', async () => {
    server.failNext('/v1/embeddings', {
      status: 400,
      body: {
        error: {
          message: 'Requested 312000 tokens, max 300000 tokens per request',
          type: 'max_tokens_per_request',
          param: null,
          code: 'max_tokens_per_request',
        },
      },
    })
    const texts = ['one', 'two', 'three', 'four']
    const vectors = await openAiProviders({ baseUrl: server.baseUrl }).embeddings!.embed(texts)
    expect(server.requests.map((request) => [request.status, bodyOf(request).input.length])).toEqual([
      [400, 4],
      [200, 2],
      [200, 2],
    ])
    expect(vectors.map((vector) => vector[0])).toEqual(
      texts.map((text) => expect.closeTo(hashedEmbedding(text, 16)[0]!, 6)),
    )
  })

  it('makes no request for no texts', async () => {
    expect(await openAiProviders({ baseUrl: server.baseUrl }).embeddings!.embed([])).toEqual([])
    expect(server.requests).toHaveLength(0)
  })
})

describe('retries (the SDK retry policy, proven on the wire)', () => {
  let server: OpenAiTestServer
  beforeAll(async () => {
    server = await startOpenAiTestServer()
  })
  afterEach(() => server.reset())
  afterAll(() => server.close())
  const gap = () => server.requests[1]!.receivedAt - server.requests[0]!.receivedAt

  it('waits out a 429 with Retry-After: 1, then succeeds', async () => {
    server.failNext('/v1/embeddings', { status: 429, headers: { 'retry-after': '1' } })
    await openAiProviders({ baseUrl: server.baseUrl }).embeddings!.embed(['hello'])
    expect(server.requests.map((request) => request.status)).toEqual([429, 200])
    expect(gap()).toBeGreaterThanOrEqual(950)
    expect(server.requests[1]!.headers['x-stainless-retry-count']).toBe('1')
  })

  it('honours retry-after-ms over the default backoff', async () => {
    server.failNext('embeddings', { status: 429, headers: { 'retry-after-ms': '40' }, times: 2 })
    await openAiProviders({ baseUrl: server.baseUrl }).embeddings!.embed(['hello'])
    expect(server.requests.map((request) => request.status)).toEqual([429, 429, 200])
    expect(gap()).toBeGreaterThanOrEqual(35)
    expect(gap()).toBeLessThan(350) // well under the 0.5 s default backoff
  })

  it('backs off exponentially with jitter after a 500 without Retry-After, then succeeds', async () => {
    server.failNext('/v1/chat/completions', { status: 500 })
    const reply = await openAiProviders({ baseUrl: server.baseUrl }).chat!.complete([{ role: 'user', content: 'hi' }])
    expect(reply).toBe('The videos do not cover that.')
    expect(server.requests.map((request) => request.status)).toEqual([500, 200])
    // 0.5 s minus at most 25 % jitter.
    expect(gap()).toBeGreaterThanOrEqual(370)
    expect(gap()).toBeLessThan(1000)
  })

  it('gives up after maxRetries with a retryable ProviderError', async () => {
    server.failNext('/v1/embeddings', { status: 503, headers: { 'retry-after-ms': '1' }, times: 5 })
    const error = await openAiProviders({ baseUrl: server.baseUrl, maxRetries: 2 })
      .embeddings!.embed(['hello'])
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProviderError)
    expect(error).toMatchObject({ status: 503, retryable: true })
    expect(server.requests).toHaveLength(3)
  })

  it('surfaces a permanent 400 at once, with the server message, without retrying', async () => {
    server.failNext('/v1/embeddings', {
      status: 400,
      body: { error: { message: "'$.input' is invalid.", type: 'invalid_request_error', param: null, code: null } },
    })
    const error = await openAiProviders({ baseUrl: server.baseUrl })
      .embeddings!.embed(['hello'])
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ProviderError)
    expect((error as ProviderError).message).toBe(
      "OpenAI embeddings (text-embedding-3-small) request for inputs 0–0 failed: 400 '$.input' is invalid.",
    )
    expect(error).toMatchObject({ status: 400, retryable: false })
    expect(server.requests).toHaveLength(1)
  })

  it('names a connection failure as retryable', async () => {
    const closed = await startOpenAiTestServer()
    await closed.close()
    const error = await openAiProviders({ baseUrl: closed.baseUrl, maxRetries: 0 })
      .chat!.complete([{ role: 'user', content: 'hi' }])
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ name: 'ProviderError', retryable: true, status: undefined })
    expect((error as Error).message).toMatch(/^OpenAI chat \(gpt-4o-mini\) failed: could not reach the API/u)
  })
})

describe('OpenAI chat against the test server', () => {
  let server: OpenAiTestServer
  beforeAll(async () => {
    server = await startOpenAiTestServer({
      chatScript: (request) => `You said: ${request.messages.at(-1)?.content} [1]`,
    })
  })
  afterEach(() => server.reset())
  afterAll(() => server.close())

  it('completes: sends the model and messages, returns the whole reply', async () => {
    const chat = openAiProviders({ baseUrl: server.baseUrl, chatModel: 'local-model' }).chat!
    expect(
      await chat.complete([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there' },
      ]),
    ).toBe('You said: hello there [1]')
    expect(server.requests[0]?.body).toMatchObject({
      model: 'local-model',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there' },
      ],
    })
  })

  it('streams the reply as text deltas', async () => {
    const deltas: string[] = []
    for await (const text of openAiProviders({ baseUrl: server.baseUrl }).chat!.stream([
      { role: 'user', content: 'stream me' },
    ]))
      deltas.push(text)
    expect(deltas.join('')).toBe('You said: stream me [1]')
    expect(deltas.length).toBeGreaterThan(5)
    expect(deltas).toContain(' [')
    expect(bodyOf(server.requests[0]!).stream).toBe(true)
  })

  it('retries a rate-limited stream before it starts', async () => {
    server.failNext('/v1/chat/completions', { status: 429, headers: { 'retry-after-ms': '10' } })
    const deltas: string[] = []
    for await (const text of openAiProviders({ baseUrl: server.baseUrl }).chat!.stream([
      { role: 'user', content: 'again' },
    ]))
      deltas.push(text)
    expect(deltas.join('')).toBe('You said: again [1]')
    expect(server.requests.map((request) => request.status)).toEqual([429, 200])
  })
})

describe('OpenAI transcription against the test server', () => {
  let server: OpenAiTestServer
  beforeAll(async () => {
    server = await startOpenAiTestServer({
      transcriptionScript: (audio) => ({
        language: 'english',
        duration: audio.durationSeconds ?? 0,
        segments: [
          { start: 0, end: 1.5, text: 'Hello and welcome.' },
          { start: 1.5, end: 2, text: '   ' },
          { start: 2, end: audio.durationSeconds ?? 0, text: `This file is ${audio.filename}.` },
        ],
      }),
    })
  })
  afterEach(() => server.reset())
  afterAll(() => server.close())

  it('uploads the audio as multipart and returns timed segments with the language as a code', async () => {
    const wav = silentWav({ seconds: 2.5 })
    const result = await openAiProviders({ baseUrl: server.baseUrl }).speechToText!.transcribe({
      data: wav,
      filename: 'segment-003.wav',
      language: 'en',
    })
    expect(result).toEqual({
      language: 'en',
      segments: [
        { start: 0, end: 1.5, text: 'Hello and welcome.' },
        { start: 2, end: 2.5, text: 'This file is segment-003.wav.' },
      ],
    })
    const [received] = server.audio
    expect(received?.bytes).toEqual(wav)
    expect(received).toMatchObject({
      filename: 'segment-003.wav',
      type: 'audio/wav',
      model: 'whisper-1',
      durationSeconds: 2.5,
    })
    expect(received?.fields).toEqual({
      response_format: ['verbose_json'],
      'timestamp_granularities[]': ['segment'],
      language: ['en'],
    })
  })

  it('sends the whole upload again when retrying', async () => {
    server.failNext('/v1/audio/transcriptions', { status: 429, headers: { 'retry-after-ms': '10' } })
    const wav = silentWav({ seconds: 1 })
    const result = await openAiProviders({ baseUrl: server.baseUrl }).speechToText!.transcribe({
      data: wav,
      filename: 'a.wav',
    })
    expect(result.segments).toHaveLength(2)
    expect(server.requests.map((request) => request.status)).toEqual([429, 200])
    expect(server.audio.map((audio) => audio.bytes.length)).toEqual([wav.length])
  })

  it('maps Whisper language names to codes', () => {
    expect(['english', 'German', 'haitian creole', 'pt', 'klingon'].map(languageCode)).toEqual([
      'en',
      'de',
      'ht',
      'pt',
      'klingon',
    ])
  })
})
