import type { TimedText } from '@ytrag/domain'

// What the pipeline asks of a model provider. The OpenAI-compatible adapter implements these;
// with no provider configured the pipeline runs captions-only, BM25 and extractive answers.

/** Dense vectors for texts, in input order. */
export interface EmbeddingProvider {
  model: string
  /** The vectors' length when known before a request (configured, or the model's documented size). */
  dimensions?: number
  embed(texts: string[]): Promise<number[][]>
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

/** A chat model: the whole reply, or its text piece by piece. */
export interface ChatProvider {
  model: string
  complete(messages: ChatMessage[]): Promise<string>
  stream(messages: ChatMessage[]): AsyncIterable<string>
}

export interface SpeechToTextProvider {
  model: string
  transcribe(audio: {
    data: Uint8Array
    filename: string
    language?: string
  }): Promise<{ language?: string; segments: TimedText[] }>
}

/** The providers configured, each absent when not. */
export interface Providers {
  embeddings?: EmbeddingProvider
  chat?: ChatProvider
  speechToText?: SpeechToTextProvider
}
