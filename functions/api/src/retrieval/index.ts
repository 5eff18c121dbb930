import type { FunctionContext } from '@ytrag/function'
import type { SearchHit } from '@ytrag/domain'
import { searchChunks } from '@ytrag/search'
import type { SearchFilter } from '@ytrag/stores'

/**
 * Hybrid retrieval when an embedding provider is configured (BM25 fused with the query's
 * vector), BM25 alone otherwise. An embedding API that is down degrades search to BM25
 * instead of failing it: the words still match.
 */
export async function retrieve(
  { stores, providers, logger }: Pick<FunctionContext, 'stores' | 'providers' | 'logger'>,
  query: string,
  limit: number,
  filter: SearchFilter | undefined,
): Promise<SearchHit[]> {
  let embedding: number[] | undefined
  if (providers.embeddings) {
    try {
      ;[embedding] = await providers.embeddings.embed([query])
    } catch (error) {
      logger.warn({ err: error }, 'query embedding failed; searching with BM25 alone')
    }
  }
  return searchChunks(stores.chunks, {
    query,
    limit,
    ...(filter ? { filter } : {}),
    ...(embedding ? { embedding } : {}),
  })
}

/** Each hit with where its words came from: captions, auto-captions or speech-to-text (and the model). */
export async function withProvenance({ stores }: Pick<FunctionContext, 'stores'>, hits: SearchHit[]) {
  const videos = new Map(
    await Promise.all(
      [...new Set(hits.map((hit) => hit.videoId))].map(
        async (videoId) => [videoId, await stores.documents.getVideo(videoId)] as const,
      ),
    ),
  )
  return hits.map((hit) => {
    const transcript = videos.get(hit.videoId)?.transcript
    return transcript
      ? {
          ...hit,
          transcript: {
            source: transcript.source,
            language: transcript.language,
            ...(transcript.model ? { model: transcript.model } : {}),
          },
        }
      : hit
  })
}
