import type { FunctionDefinition } from '@ytrag/function'
import { ProviderError } from '@ytrag/providers'
import { blobKeys, chunkId, type ChunkRecord, type StoredTranscript } from '@ytrag/stores'
import { chunkTranscript } from '@ytrag/transcript'

/** What a chunk's vector is made from: the title gives a passage the context its words lack. */
const embeddingInput = (title: string, text: string) => `${title}\n${text}`

/**
 * `indexer`: cuts a ready transcript into chunks that keep their cue times, embeds them when an
 * embedding provider is configured, and indexes them. Replacing a video's chunks as a whole
 * makes a replayed event a no-op.
 *
 * @example
 * ```ts
 * const app = createFunctionApp(indexer, dependencies)
 * ```
 */
export const indexer: FunctionDefinition = {
  name: 'indexer',
  on: {
    'transcript.ready': async (event, { stores, providers, config, emit, logger }) => {
      const { jobId, videoId, blobKey } = event.data
      const video = await stores.documents.getVideo(videoId)
      if (!video) {
        logger.warn({ videoId }, 'transcript of a video that no longer exists; nothing to index')
        return
      }
      // Done already: a redelivery changes nothing (a forced re-ingest resets the stage first).
      if (video.stages.index.status === 'done') return
      const body = await stores.blobs.get(blobKey)
      if (!body) throw new Error(`transcript blob ${blobKey} of ${videoId} is missing`)
      const transcript = JSON.parse(new TextDecoder().decode(body)) as StoredTranscript
      const chunks = chunkTranscript(transcript.segments, {
        maxSpanSeconds: config.chunking.maxSpanSeconds,
        maxChars: config.chunking.maxChars,
      })
      const records: ChunkRecord[] = chunks.map((chunk) => ({
        id: chunkId(videoId, chunk.index),
        videoId,
        chunkIndex: chunk.index,
        title: video.title,
        url: video.url,
        start: chunk.start,
        end: chunk.end,
        text: chunk.text,
        ...(video.channelId ? { channelId: video.channelId } : {}),
        ...(video.publishedAt ? { publishedAt: video.publishedAt } : {}),
      }))
      await stores.documents.updateVideo(videoId, 'index', 'running', { status: 'indexing' })
      if (providers.embeddings && records.length > 0) {
        let vectors: number[][]
        try {
          vectors = await providers.embeddings.embed(records.map((record) => embeddingInput(record.title, record.text)))
        } catch (error) {
          // A rate limit or outage is retried by the broker; a refusal (bad key, bad model) would only fail again.
          if (!(error instanceof ProviderError) || error.retryable) throw error
          const reason = `embedding failed: ${error.message}`
          await stores.documents.updateVideo(videoId, 'index', 'failed', { status: 'failed', error: reason })
          await emit('video.failed', videoId, { jobId, videoId, stage: 'index', reason })
          return
        }
        records.forEach((record, index) => (record.embedding = vectors[index]!))
        logger.debug({ videoId, chunks: records.length, model: providers.embeddings.model }, 'chunks embedded')
      }
      await stores.chunks.replaceVideoChunks(videoId, records)
      await stores.documents.updateVideo(videoId, 'index', 'done', { status: 'indexed', chunkCount: records.length, error: null })
      await emit('video.indexed', videoId, { jobId, videoId, chunkCount: records.length })
    },
  },
}
