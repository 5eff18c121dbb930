// What a channel subscription is, and the state of its scheduled re-sync. Each schema is built
// by its first use (`z.lazy`), not at import.
import * as z from 'zod'
import { isoTimeSchema as isoTime } from '../iso-time.ts'

export const channelSyncOutcomeSchema = z.lazy(() => z.enum(['ok', 'failed', 'rate-limited']))
export type ChannelSyncOutcome = z.infer<typeof channelSyncOutcomeSchema>

/** A channel subscription and the state of its scheduled sync. */
export const channelSchema = z.lazy(() =>
  z
    .strictObject({
      /** YouTube's `UC…` id (for another allowed host, the one its page gives, in the same form). */
      channelId: z.string(),
      url: z.string().describe('The URL subscribed with.'),
      /** e.g. `https://www.youtube.com/channel/UC…/videos`. */
      listUrl: z.string().describe('What is listed for a backfill, or when the feed fails.'),
      title: z.string().optional(),
      /** Caption languages wanted, in order; empty: the video's own. */
      languages: z.array(z.string()),
      /** Whether videos without captions may be transcribed (it costs money). */
      speechToText: z.boolean(),
      /** How many of the newest videos the first sync indexes. */
      backfill: z.union([z.number().int(), z.literal('all')]),
      intervalSeconds: z.number().int(),
      /** When the schedule next syncs it. */
      nextSyncAt: isoTime,
      lastSyncAt: isoTime.optional(),
      lastOutcome: channelSyncOutcomeSchema.optional(),
      lastError: z.string().optional(),
      consecutiveFailures: z
        .number()
        .int()
        .describe('Failed syncs in a row; each one doubles the wait before the next.'),
      /** New videos the last sync found. */
      videosFoundLastSync: z.number().int().optional(),
      createdAt: isoTime,
      updatedAt: isoTime,
    })
    .meta({ id: 'Channel' }),
)
export type Channel = z.infer<typeof channelSchema>

/** What a new subscription takes for an option its subscribe did not give. */
export type ChannelDefaults = Pick<Channel, 'languages' | 'speechToText' | 'backfill' | 'intervalSeconds'>
