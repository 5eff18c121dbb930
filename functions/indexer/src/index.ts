import { videoLifecycle, type FunctionDefinition } from '@ytrag/function'
import { ProviderError } from '@ytrag/providers'
import { chunkId, transcriptBlob, type ChunkRecord } from '@ytrag/stores'
import { chapterAt, chunkTranscript } from '@ytrag/transcript'

/** What a chunk's vector is made from: the title (and chapter) give a passage the context its words lack. */
const embeddingInput = (record: ChunkRecord) =>
  `${record.chapter ? `${record.title} — ${record.chapter.title}` : record.title}\n${record.text}`

/**
 * `indexer`: cuts a ready transcript into chunks that keep their cue times, gives each the
 * video's chapter it starts in (when the video has chapters), embeds them when an embedding
 * provider is configured, and indexes them. A replayed event finds the stage done and
 * sends `video.indexed` again (same id); replacing a video's chunks as a whole makes a repeated
 * run leave the same chunks.
 *
 * @example
 * ```ts
 * const app = createFunctionApp(indexer, dependencies)
 * ```
 */
export const indexer: FunctionDefinition = {
  name: 'indexer',
  on: {
    'transcript.ready': async (event, context) => {
      const { stores, providers, config, logger } = context
      const { jobId, videoId, blobKey } = event.data
      const lifecycle = videoLifecycle(context)
      const video = await lifecycle.workFor('index', event.data)
      if (!video) return
      const transcript = await transcriptBlob.read(stores.blobs, blobKey)
      if (!transcript) throw new Error(`transcript blob ${blobKey} of ${videoId} is missing`)
      const chunks = chunkTranscript(transcript.segments, {
        maxSpanSeconds: config.chunking.maxSpanSeconds,
        maxChars: config.chunking.maxChars,
        language: transcript.language,
      })
      const records: ChunkRecord[] = chunks.map((chunk) => {
        // A chunk is cited by its start, so the chapter it starts in is the one it is cited under.
        const chapter = chapterAt(video.chapters ?? [], chunk.start)
        return {
          id: chunkId(videoId, chunk.index),
          videoId,
          chunkIndex: chunk.index,
          title: video.title,
          url: video.url,
          start: chunk.start,
          end: chunk.end,
          text: chunk.text,
          sentences: chunk.sentences,
          ...(video.channelId ? { channelId: video.channelId } : {}),
          ...(video.publishedAt ? { publishedAt: video.publishedAt } : {}),
          ...(chapter ? { chapter: { title: chapter.title, start: chapter.start } } : {}),
        }
      })
      if (!(await lifecycle.start(video, 'index'))) return
      if (providers.embeddings && records.length > 0) {
        let vectors: number[][]
        try {
          vectors = await providers.embeddings.embed(records.map(embeddingInput))
        } catch (error) {
          // A rate limit or outage is retried by the broker; a refusal (bad key, bad model) would only fail again.
          if (!(error instanceof ProviderError) || error.retryable) throw error
          return lifecycle.fail(video, 'index', `embedding failed: ${error.message}`, jobId)
        }
        for (const [index, record] of records.entries()) record.embedding = vectors[index]!
        logger.debug({ videoId, chunks: records.length, model: providers.embeddings.model }, 'chunks embedded')
      }
      // Replacing the video's chunks as a whole makes a repeated run leave the same chunks.
      await stores.chunks.replaceVideoChunks(videoId, records)
      await lifecycle.finish(video, 'index', {
        update: { chunkCount: records.length, error: null },
        send: [{ name: 'video.indexed', data: { jobId, videoId, chunkCount: records.length } }],
      })
    },
  },
}
