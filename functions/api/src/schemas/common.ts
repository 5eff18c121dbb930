// What the schemas of several concepts share, and the shapes a route's request and responses
// take. Each schema is built on its first use (z.lazy): by a request's validation, or the OpenAPI
// document. Building zod schemas is a good part of a start-up, which waits for none of them.
import { z } from '@hono/zod-openapi'

/** A JSON answer as a response of a route. */
export const jsonAnswer = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

/** A required JSON request body. */
export const jsonBody = <S extends z.ZodType>(schema: S) => ({
  required: true,
  content: { 'application/json': { schema } },
})

/** Missing is one mistake, the wrong type another: each message says which. */
export const required = (name: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${name} is required` : `${name} must be a string`

export const isoTime = z.string().describe('An ISO 8601 time.')

export const transcriptSource = z.enum(['captions', 'auto-captions', 'speech-to-text'])

/** The chapter of a video a passage starts in. */
export const chapterRef = z.lazy(() =>
  z
    .strictObject({ title: z.string(), start: z.number() })
    .describe(
      'The chapter of the video the passage starts in (its title, and where it starts, in seconds), when the video has chapters.',
    )
    .openapi('ChapterRef'),
)

/** Where in a passage the answer is said: what its deep link points at. */
export const moment = z
  .number()
  .describe(
    "Where the passage's sentence (or cue group) that best matches the question starts, in seconds; `url` links there. The passage's `start` for one indexed without sentence times.",
  )
