import type { TimedText } from '@ytrag/domain'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  hashedEmbedding,
  silentWav,
  startOpenAiTestServer,
  wavDurationSeconds,
  type OpenAiTestServer,
} from './index.ts'

const auth = { authorization: 'Bearer sk-test', 'content-type': 'application/json' }
const dot = (a: number[], b: number[]) => a.reduce((sum, value, index) => sum + value * (b[index] ?? 0), 0)

describe('hashed embeddings', () => {
  it('are deterministic and unit length, never zero', () => {
    const vector = hashedEmbedding('Covering indexes avoid table lookups', 8)
    expect(vector).toEqual(hashedEmbedding('covering INDEXES avoid table lookups!', 8))
    expect(Math.hypot(...vector)).toBeCloseTo(1, 10)
    expect(hashedEmbedding('the of and', 4)).toEqual([1, 0, 0, 0])
  })

  it('bring texts that share words closer than texts that do not', () => {
    const query = hashedEmbedding('covering index lookups', 64)
    const near = hashedEmbedding('a covering index saves lookups in the table', 64)
    const far = hashedEmbedding('bake bread with sourdough starter overnight', 64)
    expect(dot(query, near)).toBeGreaterThan(dot(query, far))
  })
})

describe('WAV helpers', () => {
  it('make a real PCM header whose duration reads back', () => {
    const wav = silentWav({ seconds: 1.5, sampleRate: 8000 })
    expect(new TextDecoder().decode(wav.subarray(0, 4))).toBe('RIFF')
    expect(wav.length).toBe(44 + 1.5 * 8000 * 2)
    expect(wavDurationSeconds(wav)).toBe(1.5)
    expect(wavDurationSeconds(new TextEncoder().encode('ID3 not a wav at all'))).toBeUndefined()
  })

  it('read WAV files with extra chunks before the data, as ffmpeg writes them', () => {
    const plain = silentWav({ seconds: 1 })
    const list = new Uint8Array([...new TextEncoder().encode('LIST'), 4, 0, 0, 0, ...new TextEncoder().encode('INFO')])
    const withList = new Uint8Array([...plain.subarray(0, 36), ...list, ...plain.subarray(36)])
    expect(wavDurationSeconds(withList)).toBe(1)
  })
})

describe('the OpenAI-compatible test server', () => {
  let server: OpenAiTestServer
  beforeAll(async () => {
    server = await startOpenAiTestServer({ failures: [{ path: '/v1/models', status: 503 }] })
  })
  afterEach(() => server.reset())
  afterAll(() => server.close())
  const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${server.baseUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })

  it('starts with the failures it was given, then lists models', async () => {
    expect((await fetch(`${server.baseUrl}/models`, { headers: auth })).status).toBe(503)
    const models = (await (await fetch(`${server.baseUrl}/models`, { headers: auth })).json()) as {
      data: { id: string }[]
    }
    expect(models.data.map((model) => model.id)).toEqual(['text-embedding-3-small', 'gpt-4o-mini', 'whisper-1'])
  })

  it('answers 401 without a bearer token, like the real API', async () => {
    const response = await post('/embeddings', { model: 'm', input: 'x' }, { 'content-type': 'application/json' })
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringContaining("didn't provide an API key") },
    })
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v1/embeddings', status: 401 })
  })

  it('embeds as floats or as base64 float32, with usage', async () => {
    const floats = (await (await post('/embeddings', { model: 'm', input: ['covering index', 'other'] })).json()) as {
      data: { index: number; embedding: number[] }[]
      usage: { prompt_tokens: number }
    }
    expect(floats.data.map((item) => item.index)).toEqual([0, 1])
    expect(floats.data[0]?.embedding).toEqual(hashedEmbedding('covering index', 8))
    expect(floats.usage.prompt_tokens).toBe(6)
    const encoded = (await (
      await post('/embeddings', { model: 'm', input: 'covering index', encoding_format: 'base64', dimensions: 4 })
    ).json()) as { data: { embedding: string }[] }
    const bytes = Buffer.from(encoded.data[0]!.embedding, 'base64')
    const decoded = [...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)]
    for (const [index, value] of decoded.entries())
      expect(value).toBeCloseTo(hashedEmbedding('covering index', 4)[index]!, 6)
  })

  it('enforces the real limits: 2,048 inputs, no empty input, 8,192 tokens an input, 300,000 a request', async () => {
    const refused = async (input: unknown) => {
      const response = await post('/embeddings', { model: 'm', input })
      return [response.status, ((await response.json()) as { error: { message: string } }).error.message]
    }
    expect(await refused(Array.from({ length: 2049 }, () => 'x'))).toEqual([
      400,
      expect.stringContaining('at most 2048'),
    ])
    expect(await refused(['ok', ''])).toEqual([400, "'input[1]' cannot be an empty string."])
    expect(await refused(['z'.repeat(40_000)])).toEqual([
      400,
      expect.stringContaining('maximum context length is 8192 tokens'),
    ])
    expect(await refused(Array.from({ length: 40 }, () => 'z'.repeat(32_000)))).toEqual([
      400,
      'Requested 320000 tokens, max 300000 tokens per request.',
    ])
  })

  it('streams chat as SSE chunks ending in [DONE], with the default reply citing passage [1]', async () => {
    const prompt = 'Passages:\n[1] (Intro @ 00:05) Covering indexes hold every column. More.\n\nQuestion: what?'
    const response = await post('/chat/completions', {
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: prompt }],
    })
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/u)
    const events = (await response.text()).split('\n\n').filter(Boolean)
    expect(events.at(-1)).toBe('data: [DONE]')
    const chunks = events.slice(0, -1).map(
      (event) =>
        JSON.parse(event.replace(/^data: /u, '')) as {
          object: string
          choices: { delta: { content?: string }; finish_reason: string | null }[]
          usage?: unknown
        },
    )
    expect(new Set(chunks.map((chunk) => chunk.object))).toEqual(new Set(['chat.completion.chunk']))
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(
      'Covering indexes hold every column. [1]',
    )
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop')
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: expect.any(Number) } })
  })

  it('answers a scripted failure from the chat script', async () => {
    const scripted = await startOpenAiTestServer({
      chatScript: () => ({ status: 503, headers: { 'retry-after': '7' } }),
    })
    try {
      const response = await fetch(`${scripted.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
      })
      expect([response.status, response.headers.get('retry-after')]).toEqual([503, '7'])
    } finally {
      await scripted.close()
    }
  })

  it('parses multipart uploads and by default transcribes one segment per 10 seconds', async () => {
    const form = new FormData()
    form.append('file', new File([silentWav({ seconds: 25 })], 'talk.wav', { type: 'audio/wav' }))
    form.append('model', 'whisper-1')
    form.append('response_format', 'verbose_json')
    const response = await fetch(`${server.baseUrl}/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: 'Bearer k' },
      body: form,
    })
    const body = (await response.json()) as {
      language: string
      duration: number
      segments: TimedText[]
    }
    expect(body.language).toBe('english')
    expect(body.duration).toBe(25)
    expect(body.segments.map((segment) => [segment.start, segment.end, segment.text])).toEqual([
      [0, 10, ' Part 1 of talk.wav.'],
      [10, 20, ' Part 2 of talk.wav.'],
      [20, 25, ' Part 3 of talk.wav.'],
    ])
    expect(server.requests[0]?.body).toEqual({
      fields: { model: ['whisper-1'], response_format: ['verbose_json'] },
      file: { filename: 'talk.wav', type: 'audio/wav', size: 44 + 25 * 32_000 },
    })
    expect(server.audio[0]?.durationSeconds).toBe(25)
  })

  it('answers 404 for paths it does not serve', async () => {
    expect((await post('/completions', { model: 'm', prompt: 'x' })).status).toBe(404)
  })
})
