// An OpenAI-compatible server on loopback that stands in for the paid API in tests: the same
// paths, request shapes, response shapes, limits and error bodies as the real one, with
// deterministic answers, a record of every request and scripted failures. No dependencies
// but the domain's types: node:http for the socket, the Web `Request.formData()` for multipart uploads.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import fnv1a from '@sindresorhus/fnv1a'
import type { TimedText } from '@ytrag/domain'

/** A scripted HTTP answer: any status, body and headers (a 429 with `Retry-After`, a 500…). */
export interface ScriptedResponse {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

/** What the chat script is given: the request body as the client sent it. */
export interface ChatRequest {
  model: string
  messages: { role: string; content: string }[]
  stream: boolean
  body: Record<string, unknown>
}

/** The audio a transcription request carried, as received. */
export interface ReceivedAudio {
  bytes: Uint8Array
  filename: string
  /** The part's content type, as the client labelled it ('' when it did not). */
  type: string
  model: string
  /** Every other form field (`response_format`, `language`, `timestamp_granularities[]`…). */
  fields: Record<string, string[]>
  /** Read from the header when the audio is a PCM WAV file; undefined for other formats. */
  durationSeconds?: number
}

/** The transcription a script returns; the server dresses it as Whisper's `verbose_json`. */
export interface ScriptedTranscription {
  /** Whisper reports the language's English name ('english'), not its code. */
  language?: string
  duration?: number
  segments: TimedText[]
}

export interface RecordedRequest {
  method: string
  /** Without the query string, e.g. '/v1/embeddings'. */
  path: string
  /** Lower-cased names, as Node gives them. */
  headers: Record<string, string>
  /** Parsed JSON, or `{ fields, file }` for multipart (the bytes are in `audio`), or the raw text. */
  body: unknown
  /** The status the server answered with. */
  status: number
  /** `performance.now()` when the request arrived, to measure retry delays. */
  receivedAt: number
}

export interface FailureScript {
  /** The status to answer with; 429 unless given. */
  status?: number
  headers?: Record<string, string>
  /** The error body; an OpenAI-style `{ error }` for the status unless given. */
  body?: unknown
  /** How many consecutive requests to fail; 1 unless given. */
  times?: number
}

export interface OpenAiTestServerOptions {
  /** Length of the hashed bag-of-words vectors (a request's `dimensions` overrides it). Default 8. */
  embeddingDimensions?: number
  /** Answers `data` in reverse order, to prove a client re-orders by `index`. Default false. */
  reverseEmbeddingOrder?: boolean
  /** The chat reply: a text, or a whole scripted response. Default: quotes passage [1] and cites it. */
  chatScript?: (request: ChatRequest) => string | ScriptedResponse
  /** The transcription of an upload. Default: one segment per 10 seconds of audio. */
  transcriptionScript?: (
    audio: ReceivedAudio,
  ) => ScriptedTranscription | ScriptedResponse | Promise<ScriptedTranscription | ScriptedResponse>
  /** Failures queued from the start, as `failNext` would queue them. */
  failures?: (FailureScript & { path: string })[]
  /** When given, only `Bearer <apiKey>` is accepted; otherwise any non-empty bearer token. */
  apiKey?: string
}

export interface OpenAiTestServer {
  /** Ends in `/v1`, as the SDK's `baseURL` expects. */
  baseUrl: string
  requests: RecordedRequest[]
  /** Every upload received by `/v1/audio/transcriptions`, in order. */
  audio: ReceivedAudio[]
  /** Makes the next request(s) to `path` ('/v1/embeddings' or 'embeddings') fail as scripted. */
  failNext(path: string, failure?: FailureScript): void
  /** Forgets recorded requests, uploads and queued failures. */
  reset(): void
  close(): Promise<void>
}

/** The limits the real embeddings endpoint enforces, checked here with the same estimate clients use. */
const EMBEDDING_MAX_INPUTS = 2048
const EMBEDDING_MAX_REQUEST_TOKENS = 300_000
const EMBEDDING_MAX_INPUT_TOKENS = 8192

const DEFAULT_MODELS = ['text-embedding-3-small', 'gpt-4o-mini', 'whisper-1']

const STOP_WORDS = new Set(
  'a an and are as at be but by did do does for from how i in is it its of on or so that the their there this to was what when where which who why will with you your'.split(
    ' ',
  ),
)

/**
 * The test server's embedding: each word (lower-cased, stop words dropped) adds ±1 to a hashed
 * bucket, then the vector is L2-normalised. Texts that share words point the same way, so a
 * dense search over these vectors ranks like a crude keyword match, which makes hybrid search
 * tests meaningful. A text with no words gets the first unit vector, never a zero vector
 * (cosine similarity of a zero vector is undefined).
 *
 * @example
 * ```ts
 * hashedEmbedding('covering index', 8) // 8 numbers, length 1
 * ```
 */
export function hashedEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0)
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (STOP_WORDS.has(word)) continue
    // FNV-1a, 32 bits: stable, and good enough to spread words over buckets.
    const hash = Number(fnv1a(word, { size: 32 }))
    // The sign bit comes from other bits than the bucket, so colliding words cancel as often as they add.
    vector[hash % dimensions]! += hash & 0x80000000 ? -1 : 1
  }
  const norm = Math.hypot(...vector)
  if (norm === 0) return vector.map((_, index) => (index === 0 ? 1 : 0))
  return vector.map((value) => value / norm)
}

/**
 * A silent 16-bit mono PCM WAV file of the given length: a real, playable file that a test can
 * upload without shipping a fixture.
 *
 * @example
 * ```ts
 * const wav = silentWav({ seconds: 2 }) // 44-byte header + 64,000 bytes of silence
 * ```
 */
export function silentWav(options: { seconds: number; sampleRate?: number }): Uint8Array<ArrayBuffer> {
  const sampleRate = options.sampleRate ?? 16_000
  const dataBytes = Math.round(options.seconds * sampleRate) * 2
  const bytes = new Uint8Array(44 + dataBytes)
  const view = new DataView(bytes.buffer)
  const ascii = (offset: number, text: string) => {
    for (const [index, char] of [...text].entries()) view.setUint8(offset + index, char.charCodeAt(0))
  }
  ascii(0, 'RIFF')
  view.setUint32(4, 36 + dataBytes, true)
  ascii(8, 'WAVE')
  ascii(12, 'fmt ')
  view.setUint32(16, 16, true) // fmt chunk size
  view.setUint16(20, 1, true) // PCM
  view.setUint16(22, 1, true) // mono
  view.setUint32(24, sampleRate, true)
  view.setUint32(28, sampleRate * 2, true) // byte rate
  view.setUint16(32, 2, true) // block align
  view.setUint16(34, 16, true) // bits per sample
  ascii(36, 'data')
  view.setUint32(40, dataBytes, true)
  return bytes
}

/**
 * The duration of a WAV file from its header (byte rate and data chunk size), walking the
 * chunks so files with `LIST` or other chunks (as ffmpeg writes them) read correctly.
 * Undefined when the bytes are not a WAV file.
 *
 * @example
 * ```ts
 * wavDurationSeconds(silentWav({ seconds: 2 })) // 2
 * ```
 */
export function wavDurationSeconds(bytes: Uint8Array): number | undefined {
  if (bytes.length < 12) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const tag = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4))
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return undefined
  let byteRate: number | undefined
  let offset = 12
  while (offset + 8 <= bytes.length) {
    const id = tag(offset)
    const size = view.getUint32(offset + 4, true)
    if (id === 'fmt ' && offset + 16 <= bytes.length) byteRate = view.getUint32(offset + 16, true)
    if (id === 'data' && byteRate) {
      // ffmpeg writes 0xFFFFFFFF (or 0) as the size when it streams to a pipe: use what arrived.
      const dataSize = size === 0xffffffff || size === 0 ? bytes.length - offset - 8 : size
      return dataSize / byteRate
    }
    offset += 8 + size + (size % 2) // chunks are padded to an even length
  }
  return undefined
}

/**
 * The length of an Ogg Opus file: the last page's granule position (always counted at 48 kHz)
 * less the pre-skip from the `OpusHead` header. Undefined when the bytes are not Ogg Opus.
 *
 * @example
 * ```ts
 * oggOpusDurationSeconds(await readFile('segment-0.ogg')) // 59.98
 * ```
 */
export function oggOpusDurationSeconds(bytes: Uint8Array): number | undefined {
  const ascii = (offset: number, length: number) => String.fromCharCode(...bytes.subarray(offset, offset + length))
  if (bytes.length < 47 || ascii(0, 4) !== 'OggS' || ascii(28, 8) !== 'OpusHead') return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const preSkip = view.getUint16(28 + 10, true)
  // The last page starts at the last "OggS" capture pattern.
  for (let at = bytes.length - 27; at >= 0; at--) {
    if (bytes[at] === 0x4f && ascii(at, 4) === 'OggS') {
      const granule = Number(view.getBigUint64(at + 6, true))
      return Math.max(0, granule - preSkip) / 48_000
    }
  }
  return undefined
}

/** The real API's error body. */
function errorBody(message: string, type = 'invalid_request_error', code: string | null = null) {
  return { error: { message, type, param: null, code } }
}

function defaultErrorBody(status: number) {
  if (status === 429)
    return errorBody(
      'Rate limit reached for requests (scripted by the test server).',
      'requests',
      'rate_limit_exceeded',
    )
  if (status >= 500)
    return errorBody('The server had an error while processing your request (scripted).', 'server_error')
  return errorBody(`Scripted failure with status ${status}.`)
}

/** Passages as the answer prompt numbers them: `[n] (title @ mm:ss) text`, one a line. */
function promptPassages(content: string): Map<number, string> {
  const passages = new Map<number, string>()
  for (const match of content.matchAll(/^\[(\d+)\] \(.*? @ [\d:]+\) (.*)$/gmu)) {
    passages.set(Number(match[1]), match[2] ?? '')
  }
  return passages
}

/**
 * The default chat reply, deterministic and grounded: the first sentence of passage [1],
 * cited as [1]; without passages in the prompt, an admission that nothing covers it.
 */
function defaultChatReply(request: ChatRequest): string {
  const user = [...request.messages].reverse().find((message) => message.role === 'user')
  const first = promptPassages(user?.content ?? '').get(1)
  if (!first) return 'The videos do not cover that.'
  const sentence = (first.match(/[^.!?]+[.!?]*/u)?.[0] ?? first).trim()
  return `${sentence} [1]`
}

/** Default transcription: one segment per 10 seconds of audio, naming the file, so offsets are checkable. */
function defaultTranscription(audio: ReceivedAudio): ScriptedTranscription {
  const duration = audio.durationSeconds ?? 1
  const segments: ScriptedTranscription['segments'] = []
  for (let start = 0, index = 1; start < duration; start += 10, index += 1) {
    segments.push({ start, end: Math.min(start + 10, duration), text: `Part ${index} of ${audio.filename}.` })
  }
  return { language: 'english', duration, segments }
}

/** Splits a reply like a tokenizer would: words with their leading space, punctuation alone ("[", "7", "]"). */
function streamPieces(text: string): string[] {
  return text.match(/\s*[\p{L}\p{N}]+|\s*[^\s\p{L}\p{N}]|\s+/gu) ?? []
}

const isScripted = (value: unknown): value is ScriptedResponse =>
  typeof value === 'object' &&
  value !== null &&
  'status' in value &&
  typeof (value as ScriptedResponse).status === 'number'

const normalisePath = (path: string) => `/v1/${path.replace(/^\/?(v1\/)?/u, '')}`

/**
 * Starts the OpenAI-compatible test server on 127.0.0.1 at a random port. It serves
 * `POST /v1/embeddings` (hashed bag-of-words vectors, `float` or `base64`, the real limits),
 * `POST /v1/chat/completions` (scripted replies, plain or streamed as SSE chunks ending in
 * `data: [DONE]`), `POST /v1/audio/transcriptions` (multipart upload, `verbose_json` with
 * segments) and `GET /v1/models`; answers 401 without a bearer token, like the real API.
 *
 * @example
 * ```ts
 * const server = await startOpenAiTestServer({ chatScript: () => 'Covering indexes avoid lookups [1].' })
 * const providers = openAiProviders({ baseUrl: server.baseUrl, maxRetries: 2 })
 * server.failNext('/v1/embeddings', { status: 429, headers: { 'retry-after-ms': '10' } })
 * await providers.embeddings!.embed(['hello'])
 * expect(server.requests.map((r) => r.status)).toEqual([429, 200])
 * await server.close()
 * ```
 */
export async function startOpenAiTestServer(options: OpenAiTestServerOptions = {}): Promise<OpenAiTestServer> {
  const defaultDimensions = options.embeddingDimensions ?? 8
  const requests: RecordedRequest[] = []
  const audio: ReceivedAudio[] = []
  const failures = new Map<string, Required<Pick<FailureScript, 'status' | 'times'>> & FailureScript>()
  const modelsSeen = new Set(DEFAULT_MODELS)

  const failNext = (path: string, failure: FailureScript = {}) => {
    failures.set(normalisePath(path), { ...failure, status: failure.status ?? 429, times: failure.times ?? 1 })
  }
  for (const { path, ...failure } of options.failures ?? []) failNext(path, failure)

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, errorBody(`Test server error: ${String(error)}`, 'server_error'))
      else res.end()
    })
  })

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body ?? null)
    res.writeHead(status, {
      'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      ...headers,
    })
    res.end(text)
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks)
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(', ') : (value ?? ''),
      ]),
    )
    const contentType = headers['content-type'] ?? ''
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      headers,
      body: undefined,
      status: 0,
      receivedAt: performance.now(),
    }
    requests.push(record)
    const reply = (status: number, body: unknown, extraHeaders?: Record<string, string>) => {
      record.status = status
      send(res, status, body, extraHeaders)
    }

    // Parse first, so a failed request is recorded with what it carried (e.g. the batch that hit the 429).
    let form: FormData | undefined
    if (contentType.startsWith('multipart/form-data')) {
      // Web Request does the multipart parsing; it only needs the boundary from the content type.
      form = await new Request('http://127.0.0.1/', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: raw,
      }).formData()
      const fields: Record<string, string[]> = {}
      let file: { filename: string; type: string; size: number } | undefined
      for (const [name, value] of form.entries()) {
        if (typeof value === 'string') fields[name] = [...(fields[name] ?? []), value]
        else file = { filename: value.name, type: value.type, size: value.size }
      }
      record.body = { fields, file }
    } else if (raw.length > 0) {
      const text = raw.toString('utf8')
      try {
        record.body = JSON.parse(text)
      } catch {
        record.body = text
      }
    }

    const authorization = headers.authorization ?? ''
    const token = /^Bearer\s+(.+)$/iu.exec(authorization)?.[1]?.trim()
    if (!token || (options.apiKey !== undefined && token !== options.apiKey)) {
      const message = token
        ? 'Incorrect API key provided.'
        : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
      return reply(401, errorBody(message, 'invalid_request_error', token ? 'invalid_api_key' : null))
    }

    const failure = failures.get(path)
    if (failure) {
      failure.times -= 1
      if (failure.times <= 0) failures.delete(path)
      return reply(failure.status, failure.body ?? defaultErrorBody(failure.status), failure.headers)
    }

    if (req.method === 'GET' && path === '/v1/models') {
      return reply(200, {
        object: 'list',
        data: [...modelsSeen].map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'ytrag-test' })),
      })
    }
    if (req.method !== 'POST') return reply(404, errorBody(`Unknown request URL: ${req.method} ${path}.`))

    if (path === '/v1/embeddings') return embeddings(record.body, reply)
    if (path === '/v1/chat/completions') return chat(record.body, reply, res, record)
    if (path === '/v1/audio/transcriptions') {
      if (!form) return reply(400, errorBody('Expected a multipart/form-data body with a file.'))
      return transcription(form, reply)
    }
    return reply(404, errorBody(`Unknown request URL: POST ${path}.`))
  }

  type Reply = (status: number, body: unknown, headers?: Record<string, string>) => void

  function embeddings(body: unknown, reply: Reply) {
    const request = (body ?? {}) as {
      input?: unknown
      model?: unknown
      encoding_format?: unknown
      dimensions?: unknown
    }
    if (typeof request.model !== 'string' || request.model === '')
      return reply(400, errorBody("'model' is required.", 'invalid_request_error', 'missing_required_parameter'))
    modelsSeen.add(request.model)
    const inputs = typeof request.input === 'string' ? [request.input] : request.input
    if (!Array.isArray(inputs) || inputs.length === 0)
      return reply(400, errorBody("'input' must be a non-empty string or array."))
    if (inputs.length > EMBEDDING_MAX_INPUTS)
      return reply(400, errorBody(`'input' must have at most ${EMBEDDING_MAX_INPUTS} items; got ${inputs.length}.`))
    // Token arrays are embedded as the text of their numbers: deterministic, and rare in tests.
    const texts = inputs.map((input) =>
      typeof input === 'string' ? input : Array.isArray(input) ? input.join(' ') : String(input),
    )
    // The same estimate as the client (4 characters a token); the real tokenizer is not available here.
    const tokens = texts.map((text) => Math.ceil(text.length / 4))
    const emptyAt = texts.indexOf('')
    if (emptyAt >= 0) return reply(400, errorBody(`'input[${emptyAt}]' cannot be an empty string.`))
    const longAt = tokens.findIndex((count) => count > EMBEDDING_MAX_INPUT_TOKENS)
    if (longAt >= 0)
      return reply(
        400,
        errorBody(
          `This model's maximum context length is ${EMBEDDING_MAX_INPUT_TOKENS} tokens, however input[${longAt}] has ${tokens[longAt]} tokens.`,
        ),
      )
    const total = tokens.reduce((sum, count) => sum + count, 0)
    if (total > EMBEDDING_MAX_REQUEST_TOKENS)
      return reply(
        400,
        errorBody(
          `Requested ${total} tokens, max ${EMBEDDING_MAX_REQUEST_TOKENS} tokens per request.`,
          'max_tokens_per_request',
        ),
      )
    const dimensions = typeof request.dimensions === 'number' ? request.dimensions : defaultDimensions
    const base64 = request.encoding_format === 'base64'
    const data = texts.map((text, index) => {
      const vector = hashedEmbedding(text, dimensions)
      // base64 is the little-endian float32 bytes, as the real API sends them.
      const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector
      return { object: 'embedding', index, embedding }
    })
    if (options.reverseEmbeddingOrder) data.reverse()
    reply(200, { object: 'list', data, model: request.model, usage: { prompt_tokens: total, total_tokens: total } })
  }

  function chat(body: unknown, reply: Reply, res: ServerResponse, record: RecordedRequest) {
    const request = (body ?? {}) as Record<string, unknown>
    const messages = request.messages
    if (typeof request.model !== 'string')
      return reply(400, errorBody("'model' is required.", 'invalid_request_error', 'missing_required_parameter'))
    if (!Array.isArray(messages) || messages.length === 0)
      return reply(400, errorBody("'messages' must be a non-empty array."))
    const model = request.model
    modelsSeen.add(model)
    const chatRequest: ChatRequest = {
      model,
      messages: messages.map((message: { role?: unknown; content?: unknown }) => ({
        role: String(message.role),
        // Content may be parts ([{type:'text', text}]); the script sees the text.
        content:
          typeof message.content === 'string'
            ? message.content
            : Array.isArray(message.content)
              ? message.content.map((part: { text?: unknown }) => String(part.text ?? '')).join('')
              : '',
      })),
      stream: request.stream === true,
      body: request,
    }
    const scripted = (options.chatScript ?? defaultChatReply)(chatRequest)
    if (isScripted(scripted))
      return reply(scripted.status, scripted.body ?? defaultErrorBody(scripted.status), scripted.headers)

    const id = `chatcmpl-test${requests.length}`
    const created = Math.floor(Date.now() / 1000)
    const promptTokens = Math.ceil(chatRequest.messages.reduce((sum, message) => sum + message.content.length, 0) / 4)
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: Math.ceil(scripted.length / 4),
      total_tokens: promptTokens + Math.ceil(scripted.length / 4),
    }
    if (!chatRequest.stream) {
      return reply(200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: scripted, refusal: null },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage,
      })
    }
    record.status = 200
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    })
    const event = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`,
      )
    // The real stream opens with the role, then one chunk per token, then the finish reason.
    event([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }])
    for (const piece of streamPieces(scripted))
      event([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }])
    event([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }])
    const streamOptions = request.stream_options as { include_usage?: unknown } | undefined
    if (streamOptions?.include_usage === true) event([], { usage })
    res.end('data: [DONE]\n\n')
  }

  async function transcription(form: FormData, reply: Reply) {
    const file = form.get('file')
    const model = form.get('model')
    if (!(file instanceof Blob))
      return reply(400, errorBody("'file' is required.", 'invalid_request_error', 'missing_required_parameter'))
    if (typeof model !== 'string' || model === '')
      return reply(400, errorBody("'model' is required.", 'invalid_request_error', 'missing_required_parameter'))
    modelsSeen.add(model)
    const bytes = new Uint8Array(await file.arrayBuffer())
    if (bytes.length === 0) return reply(400, errorBody('The audio file is empty.'))
    const fields: Record<string, string[]> = {}
    for (const [name, value] of form.entries())
      if (typeof value === 'string' && name !== 'model') fields[name] = [...(fields[name] ?? []), value]
    const durationSeconds = wavDurationSeconds(bytes) ?? oggOpusDurationSeconds(bytes)
    const received: ReceivedAudio = {
      bytes,
      filename: file instanceof File ? file.name : 'blob',
      type: file.type,
      model,
      fields,
      ...(durationSeconds === undefined ? {} : { durationSeconds }),
    }
    audio.push(received)
    const scripted = await (options.transcriptionScript ?? defaultTranscription)(received)
    if (isScripted(scripted))
      return reply(scripted.status, scripted.body ?? defaultErrorBody(scripted.status), scripted.headers)

    const text = scripted.segments.map((segment) => segment.text.trim()).join(' ')
    const format = fields.response_format?.[0] ?? 'json'
    if (format === 'text') return reply(200, text)
    if (format === 'json') return reply(200, { text })
    if (format !== 'verbose_json')
      return reply(400, errorBody(`The test server does not produce response_format '${format}'.`))
    const duration = scripted.duration ?? durationSeconds ?? scripted.segments.at(-1)?.end ?? 0
    reply(200, {
      task: 'transcribe',
      language: scripted.language ?? 'english',
      duration,
      text,
      // Whisper's segment fields, so a client reading any of them sees what the real API sends.
      segments: scripted.segments.map((segment, id) => ({
        id,
        seek: 0,
        start: segment.start,
        end: segment.end,
        // Whisper puts a leading space on each segment's text.
        text: ` ${segment.text.trim()}`,
        tokens: [],
        temperature: 0,
        avg_logprob: -0.2,
        compression_ratio: 1.2,
        no_speech_prob: 0.01,
      })),
    })
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    audio,
    failNext,
    reset() {
      requests.length = 0
      audio.length = 0
      failures.clear()
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        // The SDK keeps connections alive; without this, close waits for them to time out.
        server.closeAllConnections()
      }),
  }
}
