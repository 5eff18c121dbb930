// The request bodies and queries the API takes, and the answers it gives. Each is built on its
// first use, not when the function starts: building zod schemas is a good part of a start-up,
// and a request of each kind may never come.
import * as z from 'zod'

/** Missing is one mistake, the wrong type another: each message says which. */
const required = (name: string) => (issue: { input?: unknown }) => (issue.input === undefined ? `${name} is required` : `${name} must be a string`)

/** The longest query or question taken, in characters. */
export const MAX_QUERY_CHARS = 2000

export const filterSchema = z.lazy(() =>
  z
    .object({
      videoIds: z.array(z.string().min(1)).max(500).optional(),
      channelIds: z.array(z.string().min(1)).max(500).optional(),
      publishedAfter: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
    })
    .strict(),
)

export const ingestRequest = z.lazy(() =>
  z.object({
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
  }),
)

export const searchRequest = z.lazy(() =>
  z.object({
    query: z.string({ error: required('query') }).trim().min(1, 'query is required').max(MAX_QUERY_CHARS, `query must be at most ${MAX_QUERY_CHARS} characters`),
    limit: z.number().int().min(1).max(50).optional(),
    filter: filterSchema.optional(),
  }),
)

export const askRequest = z.lazy(() =>
  z.object({
    question: z.string({ error: required('question') }).trim().min(1, 'question is required').max(MAX_QUERY_CHARS, `question must be at most ${MAX_QUERY_CHARS} characters`),
    limit: z.number().int().min(1).max(20).optional(),
    filter: filterSchema.optional(),
  }),
)

export const listVideosQuery = z.lazy(() =>
  z.object({
    channelId: z.string().min(1).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).optional(),
  }),
)

export const subscribeRequest = z.lazy(() =>
  z.object({
    url: z.string({ error: required('url') }).min(1, 'url is required'),
    /** How many of the newest videos to index now; 'all' for the whole channel. */
    backfill: z.union([z.number().int().min(0).max(10_000), z.literal('all')]).optional(),
    languages: z.array(z.string().min(2).max(20)).max(10).optional(),
    speechToText: z.boolean().optional(),
    intervalSeconds: z.number().int().min(5).max(30 * 24 * 3600).optional(),
  }),
)

// What the API answers, for the OpenAPI description (as JSON Schema, generated from these) and
// for the tests that hold the answers to it. Strict objects: a field the API gives and these do
// not describe fails those tests, so the description cannot fall behind. Built together, the
// first time one is used: the API itself never parses its answers, and the OpenAPI description
// is made on its first request.
function buildResponseSchemas() {
  const isoTime = z.string()
  const transcriptSource = z.enum(['captions', 'auto-captions', 'speech-to-text'])

  const chapterRef = z
    .strictObject({ title: z.string(), start: z.number() })
    .describe('The chapter of the video the passage starts in (its title, and where it starts, in seconds), when the video has chapters.')

  const moment = z
    .number()
    .describe("Where the passage's sentence (or cue group) that best matches the question starts, in seconds; `url` links there. The passage's `start` for one indexed without sentence times.")

  const searchHit = z.strictObject({
    videoId: z.string(),
    title: z.string(),
    start: z.number().describe("The passage's start, in seconds."),
    end: z.number(),
    moment,
    text: z.string(),
    score: z.number(),
    url: z.string().describe('A deep link to the moment: `watch?v=ID&t=754s`, or the page with `#t=754` on other sites.'),
    chapter: chapterRef.optional(),
    transcript: z.strictObject({ source: transcriptSource, language: z.string(), model: z.string().optional() }).optional(),
  })

  const searchResponse = z.strictObject({ hits: z.array(searchHit) })

  const citation = z.strictObject({
    n: z.number().int(),
    videoId: z.string(),
    title: z.string(),
    start: z.number(),
    end: z.number(),
    moment,
    url: z.string(),
    text: z.string(),
    chapter: chapterRef.optional(),
  })

  const askResponse = z.strictObject({
    answer: z.string(),
    mode: z.enum(['generative', 'extractive']),
    citations: z.array(citation),
    warning: z.string().optional().describe('Set when the chat model failed and the passages are given instead.'),
  })

  const jobResponse = z.strictObject({
    jobId: z.string(),
    url: z.string().describe('The URL acted on: a YouTube video\'s canonical watch URL, whatever form was sent.'),
    language: z.string().optional(),
    force: z.boolean(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'partial']),
    discovered: z.boolean(),
    videos: z.strictObject({ total: z.number().int(), indexed: z.number().int(), failed: z.number().int(), skipped: z.number().int() }),
    audioMinutes: z.strictObject({ queued: z.number(), done: z.number() }),
    errors: z.array(z.strictObject({ videoId: z.string().optional(), stage: z.string().optional(), message: z.string() })),
    skipped: z.array(z.strictObject({ videoId: z.string(), reason: z.string() })).describe('Videos skipped, not failed (a live stream not over yet), with the reason.'),
    createdAt: isoTime,
    updatedAt: isoTime,
  })

  const stageState = z.strictObject({ status: z.enum(['pending', 'running', 'done', 'failed', 'skipped']), updatedAt: isoTime, error: z.string().optional() })

  const videoResponse = z.strictObject({
    videoId: z.string(),
    url: z.string(),
    playlistItem: z.number().int().optional(),
    title: z.string(),
    channelId: z.string().optional(),
    channel: z.string().optional(),
    publishedAt: isoTime.optional(),
    durationSeconds: z.number().optional(),
    language: z.string().optional().describe('The language the video is spoken in, as the site says or its original-language captions tell.'),
    status: z.enum(['queued', 'downloading', 'transcribing', 'indexing', 'indexed', 'skipped', 'failed']),
    stages: z.strictObject({ download: stageState, transcribe: stageState, index: stageState }),
    generation: z.number().int(),
    handoff: z
      .strictObject({
        from: z.enum(['discover', 'download', 'transcribe', 'index']),
        events: z.array(z.strictObject({ name: z.string(), id: z.string(), data: z.record(z.string(), z.unknown()) })),
        at: isoTime,
      })
      .optional(),
    redrives: z.number().int(),
    transcript: z
      .strictObject({
        source: transcriptSource.describe('`captions`: the creator\'s (manual); `auto-captions`: the site\'s speech recognition (automatic).'),
        language: z.string(),
        track: z.string().optional().describe('The track as the site lists it, when it differs from the language (YouTube\'s `en-orig`).'),
        choice: z
          .enum(['original-language', 'requested-language', 'english', 'other-language'])
          .optional()
          .describe('Why this caption track: in the original language, the one asked for, English, or the creator\'s track in another language.'),
        model: z.string().optional(),
        blobKey: z.string(),
        segmentCount: z.number().int(),
      })
      .optional()
      .describe('Where the words came from: the caption track (its kind, language, and why it was taken) or the speech-to-text model.'),
    audio: z
      .strictObject({ segmentCount: z.number().int(), seconds: z.number(), segmentsDone: z.array(z.number().int()), secondsDone: z.number() })
      .optional(),
    availability: z.enum(['private', 'removed']).optional(),
    liveStatus: z.enum(['is_live', 'is_upcoming', 'post_live', 'was_live', 'not_live']).optional().describe("yt-dlp's live_status when the video was last read."),
    skipReason: z.string().optional().describe('Why the video was skipped (status `skipped`): it is tried again by a re-ingest or its channel\'s next sync.'),
    chapters: z.array(z.strictObject({ title: z.string(), start: z.number(), end: z.number() })).optional().describe('Its chapters in order, in seconds, when the page lists them.'),
    chunkCount: z.number().int(),
    error: z.string().optional(),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  return { chapterRef, searchHit, searchResponse, citation, askResponse, jobResponse, videoResponse }
}

let responseSchemas: ReturnType<typeof buildResponseSchemas> | undefined
/** The response schemas, built on the first call. */
export const responses = () => (responseSchemas ??= buildResponseSchemas())

export const chapterRef = z.lazy(() => responses().chapterRef)
export const searchHit = z.lazy(() => responses().searchHit)
export const searchResponse = z.lazy(() => responses().searchResponse)
export const citation = z.lazy(() => responses().citation)
export const askResponse = z.lazy(() => responses().askResponse)
export const jobResponse = z.lazy(() => responses().jobResponse)
export const videoResponse = z.lazy(() => responses().videoResponse)
