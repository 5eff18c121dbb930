// What a provider call reports, published on a diagnostics channel (node:diagnostics_channel):
// the function layer turns it into metrics of the function whose work made the call. Nothing
// is done when nobody subscribes. No imports, so a subscriber loads nothing else.

/** The channel every model call is published on, once, when it is over. */
export const PROVIDER_CALL_CHANNEL = 'ytrag.provider.call'

/** One call of a model API, as it ended. */
export interface ProviderCallMessage {
  api: 'embeddings' | 'chat' | 'transcription'
  model: string
  seconds: number
  outcome: 'ok' | 'error'
  /** Tokens the API said it read and wrote, when it says (OpenAI's `usage`). */
  promptTokens?: number
  completionTokens?: number
  /** Transcription: the seconds of audio sent. */
  audioSeconds?: number
}
