import type { Config } from '@ytrag/config'
import { openAiProviders } from '../openai/index.ts'
import type { Providers } from '../ports.ts'

/**
 * The providers the configuration asks for: the OpenAI-compatible API when `OPENAI_API_KEY`
 * or `OPENAI__BASE_URL` is set, else none (captions only, BM25, extractive answers).
 *
 * @example
 * const providers = providersFromConfig(loadConfig(process.env), process.env)
 * if (providers.chat) console.log('answers are generative')
 */
export function providersFromConfig(
  config: Config,
  env: Record<string, string | undefined> = process.env,
  onWarning?: (message: string) => void,
): Providers {
  const { baseUrl, embeddingModel, embeddingDimensions, chatModel, transcriptionModel } = config.openai
  return openAiProviders({
    ...(env.OPENAI_API_KEY ? { apiKey: env.OPENAI_API_KEY } : {}),
    ...(baseUrl ? { baseUrl } : {}),
    embeddingModel,
    ...(embeddingDimensions === undefined ? {} : { embeddingDimensions }),
    chatModel,
    transcriptionModel,
    ...(onWarning ? { onWarning } : {}),
  })
}
