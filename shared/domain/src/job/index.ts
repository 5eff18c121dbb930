// What a job is: what a request (an ingest, a channel's sync) follows, with its videos' progress.
// Its status and counts are derived on read from its videos. Each schema is built by its first
// use (`z.lazy`), not at import.
import * as z from 'zod'
import { isoTimeSchema as isoTime } from '../iso-time.ts'

export const jobStatusSchema = z.lazy(() => z.enum(['queued', 'running', 'succeeded', 'failed', 'partial']))
export type JobStatus = z.infer<typeof jobStatusSchema>

export const jobErrorSchema = z.lazy(() =>
  z.strictObject({ videoId: z.string().optional(), stage: z.string().optional(), message: z.string() }),
)
export type JobError = z.infer<typeof jobErrorSchema>

/** A video of the job that was skipped (not failed), and why. */
export const jobSkipSchema = z.lazy(() => z.strictObject({ videoId: z.string(), reason: z.string() }))
export type JobSkip = z.infer<typeof jobSkipSchema>

/** A job and its progress: an ingest, or a channel's sync. */
export const jobSchema = z.lazy(() =>
  z
    .strictObject({
      jobId: z.string(),
      url: z.string().describe("The URL acted on: a YouTube video's canonical watch URL, whatever form was sent."),
      language: z.string().optional(),
      force: z.boolean(),
      /** Derived on read from the job's videos: queued until discovery has listed them. */
      status: jobStatusSchema,
      /** Whether discovery has listed the job's videos and linked them (a redelivery checks it). */
      discovered: z.boolean(),
      videos: z.strictObject({
        total: z.number().int(),
        indexed: z.number().int(),
        failed: z.number().int(),
        skipped: z.number().int(),
      }),
      audioMinutes: z
        .strictObject({ queued: z.number(), done: z.number() })
        .describe('Minutes of audio to transcribe, and transcribed (speech-to-text only).'),
      errors: z.array(jobErrorSchema),
      skipped: z
        .array(jobSkipSchema)
        .describe('Videos skipped, not failed (a live stream not over yet), with the reason.'),
      createdAt: isoTime,
      updatedAt: isoTime,
    })
    .meta({ id: 'Job' }),
)
export type Job = z.infer<typeof jobSchema>
