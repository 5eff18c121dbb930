// What a search hit is: a passage of a transcript, its times, its chapter, and a deep link to
// the moment it answers. Each schema is built by its first use (`z.lazy`), not at import.
import * as z from 'zod'

/** The chapter of a video a passage starts in: its title, and where it starts (for a link to the chapter). */
export const chapterRefSchema = z.lazy(() =>
  z
    .strictObject({ title: z.string(), start: z.number() })
    .describe(
      'The chapter of the video the passage starts in (its title, and where it starts, in seconds), when the video has chapters.',
    )
    .meta({ id: 'ChapterRef' }),
)
export type ChapterRef = z.infer<typeof chapterRefSchema>

/** Where in a passage the answer is said: what its deep link points at. */
const moment = z
  .number()
  .describe(
    "Where the passage's sentence (or cue group) that best matches the question starts, in seconds; `url` links there. The passage's `start` for one indexed without sentence times.",
  )

/** A cited or found passage: the fields a search hit and an answer's citation share. */
export const passageSchema = z.lazy(() =>
  z.strictObject({
    videoId: z.string(),
    title: z.string(),
    start: z.number().describe("The passage's start, in seconds."),
    end: z.number(),
    moment,
    quote: z
      .string()
      .optional()
      .describe(
        "What is said at `moment`: the passage's sentence (or cue group) that best matches the question, with the one before it when it leans on that one. What the link plays first, and what an extractive answer quotes.",
      ),
    text: z.string(),
    url: z
      .string()
      .describe('A deep link to the moment: `watch?v=ID&t=754s`, or the page with `#t=754` on other sites.'),
    chapter: chapterRefSchema.optional(),
  }),
)
export type Passage = z.infer<typeof passageSchema>

/** A search hit as the API gives it: a passage that matches, with its score (ranks, not digits, carry the meaning). */
export const searchHitSchema = z.lazy(() => passageSchema.unwrap().extend({ score: z.number() }))
export type SearchHit = z.infer<typeof searchHitSchema>
