// What an answer is: text that cites passages as [n], written by a chat model or made of the
// best passages themselves. Each schema is built by its first use (`z.lazy`), not at import.
import * as z from 'zod'
import { type Passage, passageSchema } from '../hit/index.ts'

/** A passage an answer cites as `[n]`. */
export const citationSchema = z.lazy(() =>
  z.strictObject({ n: z.number().int(), ...passageSchema.unwrap().shape }).meta({ id: 'Citation' }),
)
export type Citation = z.infer<typeof citationSchema>

export const answerModeSchema = z.lazy(() =>
  z
    .enum(['generative', 'extractive'])
    .describe('`generative`: written by the chat model; `extractive`: the best passages themselves.'),
)
export type AnswerMode = z.infer<typeof answerModeSchema>

export const answerSchema = z.lazy(() =>
  z.strictObject({ answer: z.string(), mode: answerModeSchema, citations: z.array(citationSchema) }),
)
export type Answer = z.infer<typeof answerSchema>

/** An answer written by the chat model. */
export type GeneratedAnswer = Answer & { mode: 'generative' }

/** What an answer says when no passage was found to answer from. */
export const NOTHING_FOUND = 'No indexed video says anything about that yet.'

/**
 * A passage cited as `[n]`: its own fields and nothing more (a hit's `score` stays behind).
 *
 * @example
 * ```ts
 * citePassage(1, hit) // { n: 1, videoId, title, start, end, moment, quote?, url, text, chapter? }
 * ```
 */
export function citePassage(n: number, passage: Passage): Citation {
  return {
    n,
    videoId: passage.videoId,
    title: passage.title,
    start: passage.start,
    end: passage.end,
    moment: passage.moment,
    ...(passage.quote !== undefined ? { quote: passage.quote } : {}),
    url: passage.url,
    text: passage.text,
    ...(passage.chapter ? { chapter: { title: passage.chapter.title, start: passage.chapter.start } } : {}),
  }
}
