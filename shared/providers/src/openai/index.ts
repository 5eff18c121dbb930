// The providers over an OpenAI-compatible API (OpenAI itself, or a local server speaking the
// same protocol), through the official `openai` SDK.
//
// Retries: the SDK's own. It retries connection errors, 408, 409, 429 and 5xx with exponential
// backoff (0.5 s doubling to at most 8 s, minus up to 25 % jitter) and honours `retry-after-ms`
// and `Retry-After` (seconds or an HTTP date, up to 60 s), which is exactly the policy wanted;
// a second layer of our own would multiply attempts. Tests prove it against the test server.
//
// The SDK is imported on the first request, not with this module: it is a megabyte of
// JavaScript, and most of what a function does (start, answer health checks, list videos,
// read captions) never asks a model anything.
import { channel } from 'node:diagnostics_channel'
import type { TimedText } from '@ytrag/domain'
import type OpenAI from 'openai'
import { PROVIDER_CALL_CHANNEL, type ProviderCallMessage } from '../diagnostics.ts'
import type { ChatMessage, ChatProvider, EmbeddingProvider, Providers, SpeechToTextProvider } from '../ports.ts'
import { languageCode } from './languages.ts'

const calls = channel(PROVIDER_CALL_CHANNEL)

/**
 * Times one API call and publishes how it went (see ProviderCallMessage); `facts` reads the
 * tokens or audio seconds from the answer. Costs nothing when nobody listens.
 */
async function reported<T>(
  api: ProviderCallMessage['api'],
  model: string,
  call: () => Promise<T>,
  facts: (answer: T) => Partial<ProviderCallMessage> = () => ({}),
): Promise<T> {
  if (!calls.hasSubscribers) return call()
  const started = performance.now()
  const seconds = () => (performance.now() - started) / 1000
  try {
    const answer = await call()
    calls.publish({ api, model, seconds: seconds(), outcome: 'ok', ...facts(answer) } satisfies ProviderCallMessage)
    return answer
  } catch (error) {
    calls.publish({ api, model, seconds: seconds(), outcome: 'error' } satisfies ProviderCallMessage)
    throw error
  }
}

/** OpenAI's `usage`, as the message's token counts. */
const tokensOf = (
  usage: { prompt_tokens?: number; completion_tokens?: number } | null | undefined,
): Partial<ProviderCallMessage> => ({
  ...(usage?.prompt_tokens === undefined ? {} : { promptTokens: usage.prompt_tokens }),
  ...(usage?.completion_tokens === undefined ? {} : { completionTokens: usage.completion_tokens }),
})

export interface OpenAiProvidersOptions {
  /** `OPENAI_API_KEY`. Without it, a `baseUrl` alone is enough: local servers take any key. */
  apiKey?: string
  /** An OpenAI-compatible server, ending in `/v1`. Default: OpenAI's. */
  baseUrl?: string
  /** Default 'text-embedding-3-small'. */
  embeddingModel?: string
  /** Sent as the request's `dimensions` (text-embedding-3 models shorten their vectors to it). Default: the model's own size. */
  embeddingDimensions?: number
  /** Default 'gpt-4o-mini'. */
  chatModel?: string
  /** Default 'whisper-1'. */
  transcriptionModel?: string
  /** Retries after a 429, 5xx or connection error, per request. Default 5. */
  maxRetries?: number
  /** Per-attempt timeout in milliseconds. Default: the SDK's 10 minutes. */
  timeoutMs?: number
  /** A fetch to use instead of the global one (a proxy, a test double). */
  fetch?: typeof fetch
  /** Told when input is changed to fit the API (an over-long text truncated). Default `console.warn`. */
  onWarning?: (message: string) => void
}

/**
 * What the embeddings endpoint accepts in one request (OpenAI API reference, "Create
 * embeddings"): at most 2,048 inputs, at most 300,000 tokens summed over them, and
 * 8,191 tokens per input.
 */
export const EMBEDDING_LIMITS = { maxInputs: 2048, maxRequestTokens: 300_000, maxInputTokens: 8191 } as const

export type EmbeddingLimits = { maxInputs: number; maxRequestTokens: number; maxInputTokens: number }

/** The placeholder key sent to a local server that needs none; the SDK refuses to run keyless. */
const LOCAL_SERVER_KEY = 'no-key-needed'

/**
 * Estimated tokens of a text: one per 4 characters, rounded up. That is OpenAI's rule of thumb
 * for English with its tokenizers; it undercounts for dense scripts (CJK) and code, so a request
 * the server still finds too long is split or cut further (see `openAiProviders`) rather than
 * failing. A real tokenizer would be exact, but would tie this package to one model's vocabulary.
 *
 * @example
 * ```ts
 * estimateTokens('covering index') // 4
 * ```
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4)
}

/** Cuts a text to at most `chars` characters without splitting a surrogate pair. */
function cut(text: string, chars: number): string {
  let end = Math.max(0, Math.min(chars, text.length))
  const last = text.charCodeAt(end - 1)
  if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1
  return text.slice(0, end)
}

/**
 * Splits texts into consecutive batches that fit one embeddings request each: at most
 * `maxInputs` texts and `maxRequestTokens` estimated tokens per batch. Texts over
 * `maxInputTokens` are truncated (reported in `truncated`, by index) so one long text cannot
 * fail a whole batch; empty texts become a single space, which the API accepts where it
 * rejects ''.
 *
 * @example
 * ```ts
 * const { batches } = planEmbeddingBatches(texts)
 * batches.map((batch) => [batch.start, batch.inputs.length]) // [[0, 2048], [2048, 952]]
 * ```
 */
export function planEmbeddingBatches(
  texts: string[],
  limits: EmbeddingLimits = EMBEDDING_LIMITS,
): { batches: { start: number; inputs: string[] }[]; truncated: number[] } {
  const batches: { start: number; inputs: string[] }[] = []
  const truncated: number[] = []
  let current: { start: number; inputs: string[] } | undefined
  let currentTokens = 0
  texts.forEach((original, index) => {
    let text = original === '' ? ' ' : original
    if (estimateTokens(text) > limits.maxInputTokens) {
      text = cut(text, limits.maxInputTokens * 4)
      truncated.push(index)
    }
    const tokens = estimateTokens(text)
    if (!current || current.inputs.length >= limits.maxInputs || currentTokens + tokens > limits.maxRequestTokens) {
      current = { start: index, inputs: [] }
      batches.push(current)
      currentTokens = 0
    }
    current.inputs.push(text)
    currentTokens += tokens
  })
  return { batches, truncated }
}

/** A provider call that failed after the SDK's retries, naming what was asked and why it failed. */
export class ProviderError extends Error {
  override name = 'ProviderError'
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined
  /**
   * Whether trying again later may succeed (rate limit, server error, connection): a handler
   * answers 5xx so the broker redelivers; otherwise the failure is permanent.
   */
  readonly retryable: boolean

  constructor(message: string, options: { status?: number; retryable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause })
    this.status = options.status
    this.retryable = options.retryable
  }
}

/** The SDK's module, once a request has loaded it. */
type Sdk = typeof import('openai')

/** What a request runs with: the SDK (for its error classes and `toFile`) and the client made from it. */
interface Api {
  sdk: Sdk
  client: OpenAI
}

/** `sdk` is undefined when the SDK itself could not be loaded. */
function providerError(what: string, error: unknown, sdk: Sdk | undefined): ProviderError {
  if (error instanceof ProviderError) return error
  if (sdk && error instanceof sdk.APIConnectionError) {
    return new ProviderError(`${what} failed: could not reach the API (${error.message})`, {
      retryable: true,
      cause: error,
    })
  }
  if (sdk && error instanceof sdk.APIError && error.status !== undefined) {
    const status = error.status
    const retryable = status === 408 || status === 409 || status === 429 || status >= 500
    return new ProviderError(`${what} failed: ${error.message}`, { status, retryable, cause: error })
  }
  return new ProviderError(`${what} failed: ${error instanceof Error ? error.message : String(error)}`, {
    retryable: false,
    cause: error,
  })
}

/** A 400 saying the input has too many tokens: our character estimate was too low for this text. */
function isTokenLimitError(error: unknown, sdk: Sdk): boolean {
  if (!(error instanceof sdk.APIError) || error.status !== 400) return false
  return (
    error.type === 'max_tokens_per_request' || error.code === 'context_length_exceeded' || /token/iu.test(error.message)
  )
}

/** Content types the transcription API recognises, by file extension; it also reads the name. */
const AUDIO_TYPES: Record<string, string> = {
  flac: 'audio/flac',
  m4a: 'audio/mp4',
  mp3: 'audio/mpeg',
  mp4: 'audio/mp4',
  mpeg: 'audio/mpeg',
  mpga: 'audio/mpeg',
  oga: 'audio/ogg',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  wav: 'audio/wav',
  webm: 'audio/webm',
}

/** The vector sizes of OpenAI's embedding models, so an index can be made before the first request. */
const MODEL_DIMENSIONS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
}

function openAiEmbeddings(
  connect: () => Promise<Api>,
  model: string,
  dimensions: number | undefined,
  warn: (message: string) => void,
): EmbeddingProvider {
  const what = `OpenAI embeddings (${model})`

  /** One request; on a token-limit 400, halves the batch (or cuts a lone text) and tries again. */
  async function embedBatch(start: number, inputs: string[]): Promise<number[][]> {
    let sdk: Sdk | undefined
    try {
      const api = await connect()
      sdk = api.sdk
      const response = await reported(
        'embeddings',
        model,
        () =>
          api.client.embeddings.create({ model, input: inputs, ...(dimensions === undefined ? {} : { dimensions }) }),
        (answer) => tokensOf(answer.usage),
      )
      // The API numbers each vector by its input's position; order in `data` is not promised.
      const vectors = new Array<number[] | undefined>(inputs.length)
      for (const item of response.data) vectors[item.index] = item.embedding
      if (response.data.length !== inputs.length || vectors.some((vector) => vector === undefined)) {
        throw new ProviderError(`${what} returned ${response.data.length} vectors for ${inputs.length} inputs`, {
          retryable: false,
        })
      }
      return vectors as number[][]
    } catch (error) {
      if (!sdk || !isTokenLimitError(error, sdk))
        throw providerError(`${what} request for inputs ${start}–${start + inputs.length - 1}`, error, sdk)
      if (inputs.length > 1) {
        const half = Math.ceil(inputs.length / 2)
        return [
          ...(await embedBatch(start, inputs.slice(0, half))),
          ...(await embedBatch(start + half, inputs.slice(half))),
        ]
      }
      const text = inputs[0] ?? ''
      if (text.length < 2) throw providerError(`${what} request for input ${start}`, error, sdk)
      warn(
        `${what}: input ${start} is still over the token limit at ${text.length} characters; embedding its first half`,
      )
      return embedBatch(start, [cut(text, Math.floor(text.length / 2))])
    }
  }

  const knownSize = dimensions ?? MODEL_DIMENSIONS[model]
  return {
    model,
    ...(knownSize === undefined ? {} : { dimensions: knownSize }),
    async embed(texts) {
      if (texts.length === 0) return []
      const { batches, truncated } = planEmbeddingBatches(texts)
      if (truncated.length > 0) {
        warn(
          `${what}: truncated ${truncated.length} input(s) over ${EMBEDDING_LIMITS.maxInputTokens} estimated tokens (indexes ${truncated.slice(0, 10).join(', ')}${truncated.length > 10 ? ', …' : ''})`,
        )
      }
      const vectors: number[][] = []
      // One request at a time, in order: a large ingest should queue behind the rate limit, not race it.
      for (const batch of batches) vectors.push(...(await embedBatch(batch.start, batch.inputs)))
      return vectors
    },
  }
}

function openAiChat(connect: () => Promise<Api>, model: string): ChatProvider {
  const what = `OpenAI chat (${model})`
  return {
    model,
    async complete(messages: ChatMessage[]) {
      let sdk: Sdk | undefined
      try {
        const api = await connect()
        sdk = api.sdk
        const completion = await reported(
          'chat',
          model,
          () => api.client.chat.completions.create({ model, messages }),
          (answer) => tokensOf(answer.usage),
        )
        const choice = completion.choices[0]
        if (!choice) throw new ProviderError(`${what} returned no choices`, { retryable: false })
        return choice.message.content ?? ''
      } catch (error) {
        throw providerError(what, error, sdk)
      }
    },
    async *stream(messages: ChatMessage[]) {
      let sdk: Sdk | undefined
      let stream
      // A stream is reported when it ends (or fails), with the usage its last chunk carries.
      const started = performance.now()
      const report = (outcome: ProviderCallMessage['outcome'], facts: Partial<ProviderCallMessage> = {}) => {
        if (calls.hasSubscribers)
          calls.publish({
            api: 'chat',
            model,
            seconds: (performance.now() - started) / 1000,
            outcome,
            ...facts,
          } satisfies ProviderCallMessage)
      }
      try {
        const api = await connect()
        sdk = api.sdk
        stream = await api.client.chat.completions.create({
          model,
          messages,
          stream: true,
          stream_options: { include_usage: true },
        })
      } catch (error) {
        report('error')
        throw providerError(what, error, sdk)
      }
      let usage: Partial<ProviderCallMessage> = {}
      try {
        for await (const chunk of stream) {
          // The last chunk may carry only usage, with no choices.
          if (chunk.usage) usage = tokensOf(chunk.usage)
          const text = chunk.choices[0]?.delta?.content
          if (text) yield text
        }
      } catch (error) {
        report('error')
        throw providerError(`${what} stream`, error, sdk)
      }
      report('ok', usage)
    },
  }
}

function openAiSpeechToText(connect: () => Promise<Api>, model: string): SpeechToTextProvider {
  const what = `OpenAI transcription (${model})`
  return {
    model,
    async transcribe(audio) {
      const extension = /\.([a-z0-9]+)$/iu.exec(audio.filename)?.[1]?.toLowerCase() ?? ''
      const type = AUDIO_TYPES[extension]
      let sdk: Sdk | undefined
      try {
        const api = await connect()
        sdk = api.sdk
        const file = await sdk.toFile(audio.data, audio.filename, type ? { type } : undefined)
        const result = await reported(
          'transcription',
          model,
          () =>
            api.client.audio.transcriptions.create({
              file,
              model,
              response_format: 'verbose_json',
              timestamp_granularities: ['segment'],
              ...(audio.language ? { language: audio.language } : {}),
            }),
          (answer) => {
            const audioSeconds = answer.duration ?? answer.segments?.at(-1)?.end
            return audioSeconds === undefined ? {} : { audioSeconds }
          },
        )
        // Some compatible servers answer without segments: the whole text becomes one segment.
        const segments: TimedText[] = result.segments
          ? result.segments.map((segment) => ({ start: segment.start, end: segment.end, text: segment.text.trim() }))
          : [{ start: 0, end: result.duration ?? 0, text: (result.text ?? '').trim() }]
        return {
          ...(result.language ? { language: languageCode(result.language) } : {}),
          // Whisper emits empty segments over silence; they carry nothing to index.
          segments: segments.filter((segment) => segment.text !== ''),
        }
      } catch (error) {
        throw providerError(`${what} of ${audio.filename}`, error, sdk)
      }
    },
  }
}

/**
 * The providers backed by an OpenAI-compatible API: embeddings (batched to the API's limits),
 * chat (whole or streamed) and speech-to-text (segments with timestamps). Returns `{}` when
 * neither an API key nor a base URL is given, so the pipeline runs captions-only with BM25 and
 * extractive answers. Failures after the SDK's retries are `ProviderError`s.
 *
 * @example
 * ```ts
 * const providers = openAiProviders({ apiKey: process.env.OPENAI_API_KEY })
 * const [vector] = await providers.embeddings!.embed(['what is a covering index?'])
 * for await (const text of providers.chat!.stream([{ role: 'user', content: 'Hi' }])) process.stdout.write(text)
 * ```
 */
export function openAiProviders(options: OpenAiProvidersOptions = {}): Providers {
  const apiKey = options.apiKey || undefined
  const baseUrl = options.baseUrl || undefined
  if (!apiKey && !baseUrl) return {}
  // One SDK import and one client for the three providers, made by the first request of any
  // (concurrent first requests share it; a failed import is tried again by the next).
  let api: Promise<Api> | undefined
  const connect = () =>
    (api ??= import('openai').then(
      (sdk) => ({
        sdk,
        client: new sdk.default({
          apiKey: apiKey ?? LOCAL_SERVER_KEY,
          // Given explicitly, so the SDK never falls back to OPENAI_BASE_URL, OPENAI_ORG_ID or
          // OPENAI_PROJECT_ID behind the config's back: configuration is read in one place.
          baseURL: baseUrl ?? 'https://api.openai.com/v1',
          organization: null,
          project: null,
          maxRetries: options.maxRetries ?? 5,
          ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
          ...(options.fetch ? { fetch: options.fetch } : {}),
        }),
      }),
      (error: unknown) => {
        api = undefined
        throw error
      },
    ))
  const warn = options.onWarning ?? ((message: string) => console.warn(message))
  return {
    embeddings: openAiEmbeddings(
      connect,
      options.embeddingModel ?? 'text-embedding-3-small',
      options.embeddingDimensions,
      warn,
    ),
    chat: openAiChat(connect, options.chatModel ?? 'gpt-4o-mini'),
    speechToText: openAiSpeechToText(connect, options.transcriptionModel ?? 'whisper-1'),
  }
}
