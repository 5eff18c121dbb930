import type { CaptionFormat, CaptionTracks, VideoInfo } from './info.ts'

export type CaptionSource = 'captions' | 'auto-captions'

/** Which caption track to download: its language tag as the site lists it, and its kind. */
export type CaptionTrack = { language: string; source: CaptionSource }

// Formats yt-dlp's --convert-subs can turn into WebVTT (TTML by way of SRT). YouTube's json3
// and srv1-3 can't be converted, so a track offered only in those is of no use here.
const CONVERTIBLE = new Set(['vtt', 'srt', 'ass', 'ssa', 'ttml', 'dfxp', 'tt'])
// A replay of the live chat that YouTube lists among the subtitles; it is not speech.
const PSEUDO_TRACKS = new Set(['live_chat'])

const formatScore = (formats: CaptionFormat[]) =>
  formats.some((format) => format.ext === 'vtt') ? 2 : formats.some((format) => CONVERTIBLE.has(format.ext)) ? 1 : 0

const primary = (tag: string) => tag.split(/[-_]/)[0] ?? tag

/** How well a listed tag answers a wanted one: exact, a region of it (en → en-US), a sibling (en-US → en, en-GB). */
function languageScore(tag: string, wanted: string): number {
  const have = tag.toLowerCase()
  const want = wanted.toLowerCase()
  if (have === want) return 3
  if (have.startsWith(`${want}-`) || have.startsWith(`${want}_`)) return 2
  return primary(have) === primary(want) ? 1 : 0
}

/** The usable track for `wanted` (any language when undefined), best match first, then VTT first. */
function bestTrack(tracks: CaptionTracks, wanted: string | undefined): string | undefined {
  let best: { tag: string; score: number } | undefined
  for (const [tag, formats] of Object.entries(tracks)) {
    if (PSEUDO_TRACKS.has(tag)) continue
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
 * audio has to be transcribed). For the language asked for, else the video's own, else
 * English: the creator's captions, then auto-captions; a tag matches its regional variants
 * (`en` → `en-US`) when there is no exact one. Failing all those, any creator caption track;
 * never an arbitrary auto-caption track, since on YouTube those are machine translations.
 *
 * @example
 * ```ts
 * chooseCaptionTrack({ subtitles: { 'en-GB': [{ ext: 'vtt', url }] }, automaticCaptions: { en: [{ ext: 'vtt', url }] } })
 * // { language: 'en-GB', source: 'captions' }
 * chooseCaptionTrack(info, 'de') // German captions if any, else German auto-captions, else …
 * ```
 */
export function chooseCaptionTrack(
  info: Pick<VideoInfo, 'subtitles' | 'automaticCaptions'> & { language?: string | undefined },
  requested?: string,
): CaptionTrack | undefined {
  const wanted: string[] = []
  for (const language of [requested, info.language, 'en']) {
    if (language && !wanted.some((seen) => seen.toLowerCase() === language.toLowerCase())) wanted.push(language)
  }
  for (const language of wanted) {
    const captions = bestTrack(info.subtitles, language)
    if (captions) return { language: captions, source: 'captions' }
    const auto = bestTrack(info.automaticCaptions, language)
    if (auto) return { language: auto, source: 'auto-captions' }
  }
  const any = bestTrack(info.subtitles, undefined)
  return any ? { language: any, source: 'captions' } : undefined
}
