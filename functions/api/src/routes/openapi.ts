import { ERROR_CODES } from '@ytrag/function'
import type { Hono } from 'hono'
import * as z from 'zod'
import { responses } from './schemas.ts'

const error = { $ref: '#/components/schemas/Error' }
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

/** A response schema as JSON Schema, generated from its zod schema (OpenAPI 3.1 takes JSON Schema as it is). */
function jsonSchema(schema: z.ZodType): object {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'output' })
  return rest
}
const json = (schema: object) => ({ content: { 'application/json': { schema } } })
const body = (properties: object, required: string[]) => ({ required: true, ...json({ type: 'object', properties, required }) })
const filter = {
  type: 'object',
  properties: {
    videoIds: { type: 'array', items: { type: 'string' } },
    channelIds: { type: 'array', items: { type: 'string' } },
    publishedAfter: { type: 'string', format: 'date-time' },
  },
}

/**
 * The API's OpenAPI 3.1 description, written once. The response schemas' JSON Schema is added by
 * its first request (`described`): generating it is work a start-up should not wait for.
 */
export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'youtube-rag', version: '0.1.0', description: 'Questions over YouTube videos, answered with timestamped citations.' },
  components: {
    schemas: {
      Error: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string', enum: [...ERROR_CODES] }, message: { type: 'string' } } } } },
    } as Record<string, object>,
    // Needed only when the server has API__KEYS set; `{}` in `security` says so.
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'an API key: Authorization: Bearer KEY' },
      apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
    },
  },
  security: [{ bearer: [] }, { apiKey: [] }, {}],
  paths: {
    '/v1/ingest': {
      post: {
        summary: 'Ingest a video, playlist or channel',
        description:
          'Any form of a YouTube video URL (youtu.be/ID, /shorts/ID, /live/ID, /embed/ID, /v/ID, m. and music. hosts, si= and other share parameters, t=) is read as https://www.youtube.com/watch?v=ID, which the job gives back as its url. A video opened inside a playlist (watch?v=ID&list=…) is ingested alone unless playlist is true.',
        requestBody: body(
          { url: { type: 'string' }, language: { type: 'string' }, force: { type: 'boolean' }, speechToText: { type: 'boolean' }, playlist: { type: 'boolean' } },
          ['url'],
        ),
        responses: { 202: { description: 'job accepted' }, 400: { description: 'bad or disallowed URL', ...json(error) } },
      },
    },
    '/v1/jobs/{jobId}': {
      get: { summary: 'A job and its progress', responses: { 200: { description: 'the job', ...json(ref('Job')) }, 404: { description: 'no such job', ...json(error) } } },
    },
    '/v1/videos': {
      get: {
        summary: 'Videos, newest first, paged by cursor',
        responses: {
          200: { description: 'a page of videos', ...json({ type: 'object', properties: { items: { type: 'array', items: ref('Video') }, nextCursor: { type: ['string', 'null'] } } }) },
          400: { description: 'a bad limit, or a cursor this server did not issue (invalid_request, invalid_cursor)', ...json(error) },
        },
      },
    },
    '/v1/videos/{videoId}': {
      get: {
        summary: 'A video: metadata, chapters, live status, stage status, transcript source and caption choice',
        responses: { 200: { description: 'the video', ...json(ref('Video')) }, 404: { description: 'no such video', ...json(error) } },
      },
      delete: { summary: 'Remove a video, its chunks, transcript and blobs', responses: { 200: { description: 'deleted' }, 404: { description: 'no such video', ...json(error) } } },
    },
    '/v1/videos/{videoId}/transcript': { get: { summary: 'The timed transcript', responses: { 200: { description: '{segments:[{start,end,text}]}' } } } },
    '/v1/search': {
      post: {
        summary: 'Hybrid search over transcript chunks',
        requestBody: body({ query: { type: 'string' }, limit: { type: 'integer' }, filter }, ['query']),
        responses: { 200: { description: 'hits, best first, each with its deep link and chapter', ...json(ref('SearchResponse')) } },
      },
    },
    '/v1/ask': {
      post: {
        summary: 'An answer with citations (Accept: text/event-stream streams it)',
        requestBody: body({ question: { type: 'string' }, limit: { type: 'integer' }, filter }, ['question']),
        responses: { 200: { description: 'the answer, its citations with deep links and chapters', ...json(ref('AskResponse')) } },
      },
    },
    '/v1/channels': {
      post: {
        summary: 'Subscribe to a channel (/channel/UC…, /@handle, /c/…, /user/…) and backfill its newest videos',
        requestBody: body(
          {
            url: { type: 'string' },
            backfill: { oneOf: [{ type: 'integer' }, { const: 'all' }] },
            languages: { type: 'array', items: { type: 'string' } },
            speechToText: { type: 'boolean' },
            intervalSeconds: { type: 'integer' },
          },
          ['url'],
        ),
        responses: { 201: { description: '{channel, jobId}' }, 200: { description: 'already subscribed: the options sent updated, the rest kept' }, 400: { description: 'not an allowed channel URL, or its page names no channel id', ...json(error) } },
      },
      get: { summary: 'Subscriptions with their sync state', responses: { 200: { description: '{items}' } } },
    },
    '/v1/channels/{channelId}': {
      get: { summary: 'One subscription', responses: { 200: { description: 'the channel' }, 404: { description: 'not subscribed', ...json(error) } } },
      delete: { summary: 'Unsubscribe (its videos stay)', responses: { 200: { description: 'deleted' }, 404: { description: 'not subscribed', ...json(error) } } },
    },
    '/v1/channels/{channelId}/sync': { post: { summary: 'Sync now', responses: { 202: { description: '{jobId}' }, 404: { description: 'not subscribed', ...json(error) } } } },
  },
}

// What every /v1 operation may also answer: a missing or unknown key, the rate limit, and for
// a body, its size and media type (local mode wants JSON).
for (const methods of Object.values(openApiDocument.paths) as Record<string, { responses: Record<number, object> }>[]) {
  for (const [method, operation] of Object.entries(methods)) {
    operation.responses[401] ??= { description: 'API__KEYS is set and no valid key was sent (unauthorized)', ...json(error) }
    operation.responses[429] ??= { description: 'rate limited: see Retry-After (rate_limited)', ...json(error) }
    if (method === 'post') {
      operation.responses[400] ??= { description: 'a body that is not JSON or does not fit (invalid_json, invalid_request)', ...json(error) }
      operation.responses[413] ??= { description: 'a body over API__MAX_BODY_BYTES (body_too_large)', ...json(error) }
      operation.responses[415] ??= { description: 'local mode: the body is not application/json (unsupported_media_type)', ...json(error) }
    }
  }
}

const docsPage = `<!doctype html><html><head><meta charset="utf-8"><title>youtube-rag API</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}code{background:#eee;padding:0 .3em}</style></head>
<body><h1>youtube-rag API</h1><p>The machine-readable description is at <a href="/openapi.json">/openapi.json</a>.</p><ul>
${Object.entries(openApiDocument.paths)
  .flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => `<li><code>${method.toUpperCase()} ${path}</code> ${operation.summary}</li>`))
  .join('\n')}
</ul></body></html>`

let complete = false
/** The description with the response schemas in it, generated on the first call. */
function described() {
  if (!complete) {
    const { askResponse, jobResponse, searchResponse, videoResponse } = responses()
    Object.assign(openApiDocument.components.schemas, {
      Job: jsonSchema(jobResponse),
      Video: jsonSchema(videoResponse),
      SearchResponse: jsonSchema(searchResponse),
      AskResponse: jsonSchema(askResponse),
    })
    complete = true
  }
  return openApiDocument
}

/** `GET /openapi.json` and `GET /docs`. */
export function openApiRoutes(app: Hono) {
  app.get('/openapi.json', (c) => c.json(described()))
  app.get('/docs', (c) => c.html(docsPage))
}
