import { z } from 'zod'

export const filterSchema = z
  .object({
    videoIds: z.array(z.string().min(1)).max(500).optional(),
    channelIds: z.array(z.string().min(1)).max(500).optional(),
    publishedAfter: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  })
  .strict()

export const ingestRequest = z.object({
  url: z.string({ error: 'url is required' }).min(1, 'url is required'),
  language: z.string().min(2).max(20).optional(),
  force: z.boolean().optional(),
  /** Transcribe the audio even where captions exist (needs a speech-to-text provider). */
  speechToText: z.boolean().optional(),
})

export const searchRequest = z.object({
  query: z.string({ error: 'query is required' }).trim().min(1, 'query is required').max(2000),
  limit: z.number().int().min(1).max(50).optional(),
  filter: filterSchema.optional(),
})

export const askRequest = z.object({
  question: z.string({ error: 'question is required' }).trim().min(1, 'question is required').max(2000),
  limit: z.number().int().min(1).max(20).optional(),
  filter: filterSchema.optional(),
})

export const listVideosQuery = z.object({
  channelId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).optional(),
})
