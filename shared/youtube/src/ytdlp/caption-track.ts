import type { CaptionChoice, TranscriptSource } from '@ytrag/domain'
import type { CaptionFormat, CaptionTracks, VideoInfo } from './info.ts'

/** A caption track is the creator's (`captions`) or the site's speech recognition (`auto-captions`). */
export type CaptionSource = Exclude<TranscriptSource, 'speech-to-text'>

/**
 * Which caption track to download: its tag as the site lists it (what yt-dlp is asked for, e.g.
 * YouTube's `en-orig`), its kind, and why it was chosen. `spokenLanguage(language)` is its language.
 */
export type CaptionTrack = { language: string; source: CaptionSource; choice: CaptionChoice }

// Formats yt-dlp's --convert-subs can turn into WebVTT (TTML by way of SRT). YouTube's json3
// and srv1-3 can't be converted, so a track offered only in those is of no use here.
const CONVERTIBLE = new Set(['vtt', 'srt', 'ass', 'ssa', 'ttml', 'dfxp', 'tt'])
// A replay of the live chat that YouTube lists among the subtitles; it is not speech.
const PSEUDO_TRACKS = new Set(['live_chat'])
// YouTube lists its speech recognition of the original audio twice among the automatic captions:
// as `en` and as `en-orig`. Every other automatic track is a machine translation of it, so the
// `-orig` one is the only automatic track known to be what was said.
const ORIGINAL = /-orig$/i

/**
 * The language of a caption track's tag: YouTube's `en-orig` is `en`, any other tag is itself.
 *
 * @example
 * ```ts
 * spokenLanguage('en-orig') // 'en'
 * spokenLanguage('pt-BR')   // 'pt-BR'
 * ```
 */
export const spokenLanguage = (tag: string) => tag.replace(ORIGINAL, '')

/**
 * The language the video is spoken in: what the site says (`language`), else the language of
 * YouTube's `-orig` automatic track; undefined when neither tells.
 *
 * @example
 * ```ts
 * originalLanguage({ automaticCaptions: { 'de-orig': […], de: […], en: […] } }) // 'de'
 * ```
 */
export function originalLanguage(
  info: Pick<VideoInfo, 'automaticCaptions'> & { language?: string | undefined },
): string | undefined {
  if (info.language) return info.language
  const original = Object.keys(info.automaticCaptions).find((tag) => ORIGINAL.test(tag))
  return original === undefined ? undefined : spokenLanguage(original)
}

const formatScore = (formats: CaptionFormat[]) =>
  formats.some((format) => format.ext === 'vtt') ? 2 : formats.some((format) => CONVERTIBLE.has(format.ext)) ? 1 : 0

const primary = (tag: string) => tag.split(/[-_]/)[0] ?? tag

/** How well a listed tag answers a wanted one: exact, a region of it (en → en-US), a sibling (en-US → en, en-GB). */
function languageScore(tag: string, wanted: string): number {
  const have = spokenLanguage(tag).toLowerCase()
  const want = wanted.toLowerCase()
  if (have === want) return 3
  if (have.startsWith(`${want}-`) || have.startsWith(`${want}_`)) return 2
  return primary(have) === primary(want) ? 1 : 0
}

/** The usable track for `wanted` (any language when undefined) among the tags `only` lets through, best match first, then VTT first. */
function bestTrack(
  tracks: CaptionTracks,
  wanted: string | undefined,
  only: (tag: string) => boolean = () => true,
): string | undefined {
  let best: { tag: string; score: number } | undefined
  for (const [tag, formats] of Object.entries(tracks)) {
    if (PSEUDO_TRACKS.has(tag) || !only(tag)) continue
    const format = formatScore(formats)
    const language = wanted === undefined ? 1 : languageScore(tag, wanted)
    if (format === 0 || language === 0) continue
    const score = language * 10 + format
    if (!best || score > best.score) best = { tag, score }
  }
  return best?.tag
}

/**
 * Picks the caption track to use, or `undefined` when there is none worth having (then the
 * audio has to be transcribed). The video's original language comes first (`originalLanguage`),
 * since those words are what was said and the others a translation: the creator's captions in
 * it, then YouTube's `-orig` speech recognition, then any automatic track in it. Then the
 * language asked for, then English: creator captions before automatic ones. A tag matches its
 * regional variants (`en` → `en-US`) when there is no exact one. Failing all those, any creator
 * caption track; never an arbitrary automatic track, since on YouTube those are machine
 * translations. `choice` says which of these steps found it.
 *
 * @example
 * ```ts
 * chooseCaptionTrack({ subtitles: {}, automaticCaptions: { 'en-orig': [{ ext: 'vtt', url }], de: [{ ext: 'vtt', url }] } }, 'de')
 * // { language: 'en-orig', source: 'auto-captions', choice: 'original-language' }
 * chooseCaptionTrack({ subtitles: { 'en-GB': [{ ext: 'vtt', url }] }, automaticCaptions: {} })
 * // { language: 'en-GB', source: 'captions', choice: 'english' }
 * ```
 */
export function chooseCaptionTrack(
  info: Pick<VideoInfo, 'subtitles' | 'automaticCaptions'> & { language?: string | undefined },
  requested?: string,
): CaptionTrack | undefined {
  const steps: [string, CaptionChoice][] = []
  for (const [language, choice] of [
    [originalLanguage(info), 'original-language'],
    [requested, 'requested-language'],
    ['en', 'english'],
  ] as const) {
    if (language && !steps.some(([seen]) => seen.toLowerCase() === language.toLowerCase()))
      steps.push([language, choice])
  }
  for (const [language, choice] of steps) {
    const captions = bestTrack(info.subtitles, language)
    if (captions) return { language: captions, source: 'captions', choice }
    const recognised =
      choice === 'original-language'
        ? bestTrack(info.automaticCaptions, language, (tag) => ORIGINAL.test(tag))
        : undefined
    const auto = recognised ?? bestTrack(info.automaticCaptions, language)
    if (auto) return { language: auto, source: 'auto-captions', choice }
  }
  const any = bestTrack(info.subtitles, undefined)
  return any ? { language: any, source: 'captions', choice: 'other-language' } : undefined
}
