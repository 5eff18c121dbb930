import type { Chapter } from '@ytrag/domain'

/**
 * The chapter a moment falls in: the last one starting at or before it, as long as the moment
 * is before that chapter's end; undefined before the first chapter, in a gap between two, or
 * after the last one. Chapters may be in any order.
 *
 * @example
 * ```ts
 * const chapters = [{ title: 'Intro', start: 0, end: 60 }, { title: 'B-trees', start: 60, end: 300 }]
 * chapterAt(chapters, 75.2) // { title: 'B-trees', start: 60, end: 300 }
 * chapterAt(chapters, 300)  // undefined
 * ```
 */
export function chapterAt<T extends Chapter>(chapters: readonly T[], seconds: number): T | undefined {
  let found: T | undefined
  for (const chapter of chapters) {
    if (chapter.start <= seconds && (!found || chapter.start >= found.start)) found = chapter
  }
  return found && seconds < found.end ? found : undefined
}
