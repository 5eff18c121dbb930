import { z } from 'zod'

/** Missing is one mistake, the wrong type another: each message says which. */
const required = (name: string) => (issue: { input?: unknown }) => (issue.input === undefined ? `${name} is required` : `${name} must be a string`)

/** The longest query or question taken, in characters. */
export const MAX_QUERY_CHARS = 2000

export const filterSchema = z
  .object({
    videoIds: z.array(z.string().min(1)).max(500).optional(),
    channelIds: z.array(z.string().min(1)).max(500).optional(),
    publishedAfter: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  })
  .strict()

export const ingestRequest = z.object({
  url: z.string({ error: required('url') }).min(1, 'url is required'),
  language: z.string().min(2).max(20).optional(),
  force: z.boolean().optional(),
  /** Transcribe the audio even where captions exist (needs a speech-to-text provider). */
  speechToText: z.boolean().optional(),
  /**
   * For a YouTube video opened inside a playlist (`watch?v=…&list=…`): ingest the whole playlist.
   * Without it such a URL ingests the one video, as the link plays it.
   */
  playlist: z.boolean().optional(),
})

export const searchRequest = z.object({
  query: z.string({ error: required('query') }).trim().min(1, 'query is required').max(MAX_QUERY_CHARS, `query must be at most ${MAX_QUERY_CHARS} characters`),
  limit: z.number().int().min(1).max(50).optional(),
  filter: filterSchema.optional(),
})

export const askRequest = z.object({
  question: z.string({ error: required('question') }).trim().min(1, 'question is required').max(MAX_QUERY_CHARS, `question must be at most ${MAX_QUERY_CHARS} characters`),
  limit: z.number().int().min(1).max(20).optional(),
  filter: filterSchema.optional(),
})

export const listVideosQuery = z.object({
  channelId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).optional(),
})

export const subscribeRequest = z.object({
  url: z.string({ error: required('url') }).min(1, 'url is required'),
  /** How many of the newest videos to index now; 'all' for the whole channel. */
  backfill: z.union([z.number().int().min(0).max(10_000), z.literal('all')]).optional(),
  languages: z.array(z.string().min(2).max(20)).max(10).optional(),
  speechToText: z.boolean().optional(),
  intervalSeconds: z.number().int().min(5).max(30 * 24 * 3600).optional(),
})
