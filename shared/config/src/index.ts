import { accessSync, constants, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import * as z from 'zod'

const YOUTUBE_HOSTS = ['www.youtube.com', 'youtube.com', 'm.youtube.com', 'music.youtube.com', 'youtu.be']
// Where YouTube's pages send yt-dlp for the rest: media on numbered googlevideo hosts, thumbnails
// and avatars on ytimg/ggpht, consent and the player API. Never ingest URLs themselves.
const YOUTUBE_FETCH_HOSTS = [
  '*.youtube.com',
  '*.googlevideo.com',
  '*.ytimg.com',
  '*.ggpht.com',
  'youtubei.googleapis.com',
]

const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean),
)

const port = z.coerce.number().int().min(0).max(65535)

/** What `--js-runtimes` takes (yt-dlp 2025.11.12). */
const JS_RUNTIMES = ['deno', 'node', 'bun', 'quickjs']

/**
 * What is wrong with an upstream proxy URL, or undefined: http(s), a host and a port, nothing
 * after them. Never echoes the URL, which may hold a password.
 */
function upstreamProxyProblem(value: string): string | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'not a URL; give http(s)://user:password@host:port'
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `the scheme ${url.protocol} is not taken; give http(s)://user:password@host:port`
  if (!url.hostname) return 'no host; give http(s)://user:password@host:port'
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    return 'a proxy URL has no path, query or fragment; give http(s)://user:password@host:port'
  return undefined
}

/**
 * Every setting, by section and key. Each key is read from `YOUTUBE_RAG__<SECTION>__<KEY>`, or
 * from `<SECTION>__<KEY>` (the names of the deployment document's ConfigMap), or from the file
 * that either name with `_FILE` appended points at (a Secret mounted as a file). The defaults
 * give the embedded local mode.
 */
export const configSchema = z.object({
  app: z.object({
    name: z.string().default('youtube-rag'),
    environment: z.string().default('local'),
  }),
  server: z.object({
    host: z.string().default('127.0.0.1'),
    port: port.default(8000),
    /**
     * Local mode answers only requests addressed to localhost names, IP addresses, `host` and
     * these names (a name in front of it, e.g. a reverse proxy's): a page on another site that
     * rebinds its own name to this machine is refused (DNS rebinding).
     */
    allowedHosts: list.default([]),
    /**
     * How long a process (the local server, or a function in the cluster) goes without a request
     * before it gives back to the system the memory a burst of requests grew its heap by (a
     * last-resort GC, ~50–100 ms that no request waits on; probes are not requests). 0 never.
     */
    idleMemoryReleaseMs: z.coerce.number().int().min(0).default(10_000),
  }),
  api: z.object({
    /**
     * The SHA-256 (hex) of each API key, comma-separated (`printf %s "$KEY" | sha256sum`); from a
     * Secret. Set, /v1/* needs one of the keys (`Authorization: Bearer KEY` or `x-api-key: KEY`).
     */
    keys: list
      .pipe(
        z.array(
          z
            .string()
            .regex(/^[0-9a-f]{64}$/, 'each entry must be the hex SHA-256 of a key (64 hex digits), not the key itself'),
        ),
      )
      .default([]),
    /** The largest request body /v1/* reads; larger ones are refused with 413 before they are read. */
    maxBodyBytes: z.coerce.number().int().positive().default(262_144),
  }),
  events: z.object({
    /** The largest CloudEvent a function reads: events carry references (blob keys), not payloads. */
    maxBodyBytes: z.coerce.number().int().positive().default(262_144),
  }),
  storage: z.object({
    dir: z.string().default('./.youtube-rag'),
  }),
  ingest: z.object({
    allowedHosts: list.default(YOUTUBE_HOSTS),
    maxVideosPerJob: z.coerce.number().int().positive().default(500),
    /**
     * Hosts the server may fetch from on an ingest's behalf besides ALLOWED_HOSTS (media, captions,
     * thumbnails), never ingest URLs themselves; `*.example.com` takes any subdomain. Every request
     * yt-dlp makes, and every hop of the server's own fetches, is checked against both lists.
     */
    fetchHosts: list.default(YOUTUBE_FETCH_HOSTS),
    /** A channel page or feed larger than this is not read. */
    pageMaxBytes: z.coerce.number().int().positive().default(5_000_000),
    /** How long a channel page or feed may take, redirects and body included (the API answers 504 past it). */
    fetchTimeoutSeconds: z.coerce.number().positive().default(15),
    /** Redirects a channel page or feed may take. */
    maxRedirects: z.coerce.number().int().min(0).default(5),
    /** A caption file larger than this is refused (a real one for a 4-hour talk is well under 2 MB). */
    captionMaxBytes: z.coerce.number().int().positive().default(5_000_000),
    /** Cues may start at most this long after the video's end; later ones mark a caption file that is not the video's. */
    captionSlackSeconds: z.coerce.number().min(0).default(60),
    /** The most bytes one response through the egress proxy may carry (a video's media file). */
    proxyMaxBytes: z.coerce.number().int().positive().default(2_000_000_000),
  }),
  tools: z.object({
    ytdlpPath: z.string().default('yt-dlp'),
    ytdlpTimeoutSeconds: z.coerce.number().positive().default(120),
    /** yt-dlp and ffmpeg processes one process runs at once; more wait their turn. */
    maxProcesses: z.coerce.number().int().positive().default(4),
    /** Unset: the static ffmpeg that @ffmpeg-installer/ffmpeg ships. */
    ffmpegPath: z.string().optional(),
  }),
  ytdlp: z.object({
    /**
     * A Netscape cookies.txt of a signed-in YouTube account (a Secret mounted as a file), passed as
     * `--cookies`: what answers "Sign in to confirm you're not a bot" when the egress address is
     * distrusted. yt-dlp writes its cookie jar back at exit and a Secret mount is read-only, so
     * each run gets a copy in its scratch folder. The file must be readable at start-up.
     */
    cookiesFile: z
      .string()
      .optional()
      .superRefine((path, context) => {
        if (path === undefined) return
        try {
          accessSync(path, constants.R_OK)
        } catch (error) {
          context.addIssue({
            code: 'custom',
            message: `the cookies file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); mount it there (a Secret) or unset the setting`,
          })
        }
      }),
    /**
     * The operator's own proxy, `http(s)://user:password@host:port` (from a Secret): every request
     * yt-dlp makes leaves through it, after the egress guard has checked its target (the
     * allow-list and the private-address rule stay here). For a residential or otherwise trusted
     * address when YouTube refuses the cluster's. Never logged with its password.
     */
    proxy: z
      .string()
      .optional()
      .superRefine((value, context) => {
        if (value === undefined) return
        const problem = upstreamProxyProblem(value)
        if (problem) context.addIssue({ code: 'custom', message: problem })
      }),
    /**
     * yt-dlp `--extractor-args`, several separated by `|` or new lines, each passed as one, e.g.
     * `youtube:player_client=default,mweb;po_token=mweb.gvs+TOKEN` (a PO token from a Secret:
     * YOUTUBE_RAG__YTDLP__EXTRACTOR_ARGS_FILE).
     */
    extractorArgs: z
      .string()
      .transform((value) =>
        value
          .split(/[|\n]/)
          .map((item) => item.trim())
          .filter(Boolean),
      )
      .default([]),
    /** Seconds yt-dlp waits between the requests of one extraction (`--sleep-requests`): fewer requests a second, fewer bot checks. */
    sleepRequestsSeconds: z.coerce.number().min(0).optional(),
    /**
     * The JavaScript runtimes yt-dlp may solve YouTube's challenges with (`--js-runtimes`),
     * comma-separated: `node` is this server's own Node (its path is passed), `deno`, `bun`,
     * `quickjs` or `name:/path/to/binary`; `none` passes nothing (yt-dlp's own default, deno).
     * Only the ones listed are enabled. Left out for a yt-dlp older than 2025.11.12, which has no
     * such flag.
     */
    jsRuntimes: z
      .string()
      .transform((value, context) => {
        const runtimes = value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
        if (runtimes.length === 1 && runtimes[0]!.toLowerCase() === 'none') return []
        for (const runtime of runtimes) {
          const name = runtime.split(':', 1)[0]!.toLowerCase()
          if (!JS_RUNTIMES.includes(name))
            context.addIssue({
              code: 'custom',
              message: `unknown JavaScript runtime ${JSON.stringify(name)}; use ${JS_RUNTIMES.join(', ')} or none`,
            })
        }
        return runtimes
      })
      .default(['node']),
    /**
     * yt-dlp `--remote-components`, comma-separated, e.g. `ejs:npm` (the challenge solver's script
     * fetched from npm) when the installed yt-dlp lacks the yt-dlp-ejs package. Its download goes
     * through the egress guard: add its host (registry.npmjs.org for npm) to INGEST__FETCH_HOSTS.
     * Left out for a yt-dlp older than 2025.11.12.
     */
    remoteComponents: z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      )
      .default([]),
    /** The oldest yt-dlp (its date version) that still reads YouTube; an older one is reported at start-up and by readiness. */
    minVersion: z
      .string()
      .regex(/^\d{4}\.\d{1,2}\.\d{1,2}(?:\.\d+)?$/, 'a yt-dlp date version, YYYY.MM.DD')
      .default('2025.11.12'),
    /**
     * What a yt-dlp below MIN_VERSION does to readiness: `warn` answers 200 with status
     * `degraded` and the reason (the function still takes work: captions of other sites, and
     * some YouTube videos, may still be read); `refuse` answers 503 naming the version, so
     * Knative sends the function nothing until it is updated.
     */
    belowFloor: z.enum(['warn', 'refuse']).default('warn'),
    /**
     * Local mode only (`npm start`): when the yt-dlp on PATH is missing or below MIN_VERSION,
     * `auto` uses youtube-dl-exec's download of the current one (kept in STORAGE__DIR/bin);
     * `off` never downloads. Ignored when TOOLS__YTDLP_PATH is set.
     */
    localDownload: z.enum(['auto', 'off']).default('auto'),
  }),
  channels: z.object({
    /** Where channel feeds are read: `<base>/feeds/videos.xml?channel_id=…` (tests point it at a fixture site). */
    feedBaseUrl: z.string().default('https://www.youtube.com'),
    /** How often a subscription is synced, unless it says otherwise. */
    intervalSeconds: z.coerce.number().int().positive().default(3600),
    /** Each sync lands up to this share of the interval early or late, so channels spread out. */
    jitterRatio: z.coerce.number().min(0).max(0.5).default(0.1),
    /** The newest videos a new subscription indexes, unless it says otherwise. */
    backfill: z.coerce.number().int().min(0).default(5),
    /** At least this long between two requests to one host, across every replica. */
    hostSpacingMs: z.coerce.number().int().min(0).default(1000),
    /** How long a host that answered 429 is left alone when it does not say (Retry-After). */
    rateLimitBackoffSeconds: z.coerce.number().int().positive().default(900),
    /** The most channels one schedule tick starts syncing. */
    maxPerTick: z.coerce.number().int().positive().default(50),
    /** A failing channel waits interval × 2^failures, at most this long. */
    maxBackoffSeconds: z.coerce
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3600),
  }),
  audio: z.object({
    /** Longer videos are refused before any download: speech-to-text is paid by the minute. */
    maxDurationSeconds: z.coerce
      .number()
      .positive()
      .default(4 * 3600),
    /** Each segment is at most this long (the transcription API takes 25 MB; Opus at 24 kb/s is ~3.6 MB per 20 minutes). */
    segmentSeconds: z.coerce.number().positive().default(1200),
    segmentMaxBytes: z.coerce.number().int().positive().default(24_000_000),
    /** How long the audio download and conversion may take. */
    downloadTimeoutSeconds: z.coerce.number().positive().default(600),
  }),
  chunking: z.object({
    /** Every cue of a chunk starts at most this long after the chunk does, so a citation's start lands near what it quotes. */
    maxSpanSeconds: z.coerce.number().positive().default(20),
    maxChars: z.coerce.number().int().positive().default(1000),
  }),
  broker: z.object({
    /** Where the local broker reads its Broker and Trigger manifests; relative paths start at the repository root. */
    manifestsDir: z.string().default('knative/base'),
    /** Multiplies the Broker's retry delays in local mode (tests shorten them). */
    backoffScale: z.coerce.number().min(0).default(1),
    /**
     * Local mode: deliveries one function takes at once, the rest waiting their turn in order, so
     * a playlist's first videos are indexed first. As many as TOOLS__MAX_PROCESSES by default: a
     * download runs one yt-dlp at a time.
     */
    subscriberConcurrency: z.coerce.number().int().positive().default(4),
    /** Local mode: a cron (five fields, or six with seconds) run instead of the PingSource's own schedule; 'off' runs none. */
    pingSchedule: z.string().optional(),
  }),
  reaper: z.object({
    // A stage that has not moved for longer than its function's request timeout (the Knative
    // Services' timeoutSeconds in knative/base/functions; a test keeps the two equal) has no
    // attempt alive any more: the schedule's tick sends its input again.
    discoverTimeoutSeconds: z.coerce.number().positive().default(300),
    downloadTimeoutSeconds: z.coerce.number().positive().default(600),
    transcribeTimeoutSeconds: z.coerce.number().positive().default(300),
    indexerTimeoutSeconds: z.coerce.number().positive().default(180),
    /** After this many re-sends without progress the stage fails with the reason (and its jobs end). */
    maxRedrives: z.coerce.number().int().min(0).default(3),
    /** The most videos (and jobs) one tick looks at. */
    maxPerTick: z.coerce.number().int().positive().default(200),
  }),
  documentDb: z.object({
    provider: z.enum(['sqlite', 'mongodb']).default('sqlite'),
    /** A full connection string wins over host and port; credentials belong in it, from a Secret. */
    uri: z.string().optional(),
    host: z.string().default('127.0.0.1'),
    port: port.default(27017),
    name: z.string().default('youtube_rag'),
  }),
  vectorDb: z.object({
    provider: z.enum(['sqlite', 'qdrant']).default('sqlite'),
    url: z.string().optional(),
    host: z.string().default('127.0.0.1'),
    port: port.default(6333),
    collection: z.string().default('youtube_rag_chunks'),
    /** Qdrant Cloud's or a secured server's key, from a Secret. */
    apiKey: z.string().optional(),
    /** Whose stop words a search query drops, as ISO 639-1 codes (`en,de`): the languages the videos are in. Both providers. */
    languages: list.default(['en']),
    /**
     * Threads that run the embedded index's searches, each with a read-only connection, so a
     * search never blocks the event loop and searches use every core; 0 searches on the event
     * loop. Idle threads stop after 10 s. Ignored by qdrant.
     */
    searchThreads: z.coerce.number().int().min(0).default(availableParallelism()),
  }),
  blobStorage: z.object({
    provider: z.enum(['directory', 's3']).default('directory'),
    endpoint: z.string().optional(),
    region: z.string().default('us-east-1'),
    bucket: z.string().default('youtube-rag'),
    /** MinIO and s3rver need path-style addresses; AWS takes either. */
    forcePathStyle: z.stringbool().default(true),
    /** From a Secret. Unset, the AWS SDK's own chain applies (AWS_ACCESS_KEY_ID, profiles, IAM roles). */
    accessKeyId: z.string().optional(),
    secretAccessKey: z.string().optional(),
  }),
  openai: z.object({
    /** An OpenAI-compatible server (a local one, or a test server); the key comes from OPENAI_API_KEY. */
    baseUrl: z.string().optional(),
    embeddingModel: z.string().default('text-embedding-3-small'),
    /** Asked of the model (text-embedding-3 models shorten their vectors); unset, the model's own size. */
    embeddingDimensions: z.coerce.number().int().positive().optional(),
    chatModel: z.string().default('gpt-4o-mini'),
    transcriptionModel: z.string().default('whisper-1'),
  }),
  rateLimit: z.object({
    provider: z.enum(['memory', 'redis']).default('memory'),
    redisUrl: z.string().default('redis://127.0.0.1:6379'),
    /** Requests per window per client; 0 turns limiting off. */
    requests: z.coerce.number().int().min(0).default(120),
    windowSeconds: z.coerce.number().int().positive().default(60),
    /** Behind Knative's ingress the client is the first X-Forwarded-For address; trust it only there. */
    trustProxy: z.stringbool().default(false),
    /** The in-memory limiter keeps at most this many clients' windows (the least recent go first). */
    maxClients: z.coerce.number().int().positive().default(10_000),
  }),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }),
  telemetry: z.object({
    /**
     * An OTLP/HTTP collector's base URL (e.g. http://otel-collector:4318): each function exports
     * the spans of its requests and events to `<it>/v1/traces`. Unset (or empty), nothing is
     * exported and the OpenTelemetry SDK is never loaded; OTEL_EXPORTER_OTLP_ENDPOINT is honoured then.
     */
    otlpEndpoint: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.url({ protocol: /^https?$/ }).optional(),
    ),
    /** What the model APIs cost, in dollars, for the spend estimate (`ytrag_provider_cost_dollars_total`). */
    chatPromptDollarsPerMillionTokens: z.coerce.number().min(0).default(0.15),
    chatCompletionDollarsPerMillionTokens: z.coerce.number().min(0).default(0.6),
    embeddingDollarsPerMillionTokens: z.coerce.number().min(0).default(0.02),
    transcriptionDollarsPerMinute: z.coerce.number().min(0).default(0.006),
    /** The day's model spend the alert YtragSpendOverBudget compares with (`ytrag_spend_budget_dollars`). */
    dailyBudgetDollars: z.coerce.number().min(0).default(20),
  }),
})

export type Config = z.infer<typeof configSchema>

/** A setting that failed validation; the message names the variable to fix. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

const envKey = (key: string) => key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()

/**
 * A setting's value from the file its `…_FILE` variable names (a Secret mounted as a file, the
 * convention of Docker's official images): the file's text without its trailing line break(s),
 * which `echo` and most editors add and no setting means.
 */
function readSettingFile(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/[\r\n]+$/, '')
  } catch (error) {
    throw new ConfigError(
      `invalid configuration: ${variable}: the file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    )
  }
}

/**
 * Reads the configuration from the environment once, at start-up. A setting may also be given
 * as a file: `YOUTUBE_RAG__YTDLP__PROXY_FILE=/secrets/proxy` reads YTDLP__PROXY from that file.
 * Setting both the variable and its `_FILE` is refused: which one wins would be a guess.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.env)
 * config.server.port // 8000 unless YOUTUBE_RAG__SERVER__PORT or SERVER__PORT says otherwise
 * ```
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, Record<string, string>> = {}
  const names: Record<string, string> = {}
  for (const [section, sectionSchema] of Object.entries(configSchema.shape)) {
    raw[section] = {}
    for (const key of Object.keys(sectionSchema.shape)) {
      const suffix = `${envKey(section)}__${envKey(key)}`
      const candidates = [`YOUTUBE_RAG__${suffix}`, suffix]
      const name = candidates.find((candidate) => env[candidate] !== undefined)
      const fileName = candidates
        .map((candidate) => `${candidate}_FILE`)
        .find((candidate) => env[candidate] !== undefined)
      if (name && fileName)
        throw new ConfigError(`invalid configuration: ${name} and ${fileName} are both set; keep one`)
      names[`${section}.${key}`] = name ?? fileName ?? `YOUTUBE_RAG__${suffix}`
      if (name) raw[section]![key] = env[name]!
      else if (fileName) raw[section]![key] = readSettingFile(fileName, env[fileName]!)
    }
  }
  // Parsed once per process: zod's eval-compiled fast path would cost a cold start ~20 ms of
  // compiling (measured: 28 ms of CPU for the first parse with it, 7 without) and never pay back.
  const parsed = configSchema.safeParse(raw, { jitless: true })
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = names[issue.path.slice(0, 2).join('.')] ?? issue.path.join('.')
      return `${variable}: ${issue.message}`
    })
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  }
  return parsed.data
}
