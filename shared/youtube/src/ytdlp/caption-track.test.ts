import { describe, expect, it } from 'vitest'
import { chooseCaptionTrack } from './caption-track.ts'
import type { CaptionTracks } from './info.ts'

/** Tracks offered in YouTube's usual formats (vtt among them), or in the formats given. */
function tracks(...languages: (string | [string, ...string[]])[]): CaptionTracks {
  return Object.fromEntries(
    languages.map((entry) => {
      const [language, ...exts] = typeof entry === 'string' ? [entry, 'json3', 'srv1', 'vtt', 'ttml'] : entry
      return [language, exts.map((ext) => ({ ext, url: `https://example.test/${language}.${ext}` }))]
    }),
  )
}

const choose = (
  subtitles: CaptionTracks,
  automaticCaptions: CaptionTracks,
  requested?: string,
  language?: string,
) => chooseCaptionTrack({ subtitles, automaticCaptions, ...(language ? { language } : {}) }, requested)

describe('chooseCaptionTrack', () => {
  it('has nothing to choose when there are no tracks', () => {
    expect(choose({}, {})).toBeUndefined()
    expect(choose({}, {}, 'en')).toBeUndefined()
  })

  it('prefers creator captions to auto-captions in the same language', () => {
    expect(choose(tracks('en'), tracks('en'))).toEqual({ language: 'en', source: 'captions' })
  })

  it('uses auto-captions in English when there are no creator captions', () => {
    expect(choose({}, tracks('en', 'de', 'fr'))).toEqual({ language: 'en', source: 'auto-captions' })
  })

  it('takes the requested language first, creator captions then auto-captions', () => {
    expect(choose(tracks('en', 'de'), tracks('en', 'de'), 'de')).toEqual({ language: 'de', source: 'captions' })
    expect(choose(tracks('en'), tracks('en', 'de'), 'de')).toEqual({ language: 'de', source: 'auto-captions' })
  })

  it("falls back from the requested language to the video's own, then to English", () => {
    expect(choose(tracks('en', 'fr'), {}, 'de', 'fr')).toEqual({ language: 'fr', source: 'captions' })
    expect(choose(tracks('en'), {}, 'de', 'fr')).toEqual({ language: 'en', source: 'captions' })
    expect(choose({}, tracks('fr'), undefined, 'fr')).toEqual({ language: 'fr', source: 'auto-captions' })
  })

  it("prefers the video's own language to English when nothing is requested", () => {
    expect(choose(tracks('en', 'ja'), {}, undefined, 'ja')).toEqual({ language: 'ja', source: 'captions' })
  })

  it("prefers auto-captions in the video's language to creator captions in English", () => {
    expect(choose(tracks('en'), tracks('es'), undefined, 'es')).toEqual({ language: 'es', source: 'auto-captions' })
  })

  it('matches a language to its regional variants when there is no exact track', () => {
    expect(choose(tracks('en-GB'), {})).toEqual({ language: 'en-GB', source: 'captions' })
    expect(choose(tracks('de', 'en-US', 'en-GB'), {}, 'en')).toEqual({ language: 'en-US', source: 'captions' })
    expect(choose({}, tracks('en-US'), 'en')).toEqual({ language: 'en-US', source: 'auto-captions' })
  })

  it('takes the exact tag over a regional variant, wherever it is listed', () => {
    expect(choose(tracks('en-US', 'en'), {})).toEqual({ language: 'en', source: 'captions' })
  })

  it('matches a regional request to the base language or a sibling region', () => {
    expect(choose(tracks('pt'), {}, 'pt-BR')).toEqual({ language: 'pt', source: 'captions' })
    expect(choose(tracks('en', 'pt-PT'), {}, 'pt-BR')).toEqual({ language: 'pt-PT', source: 'captions' })
  })

  it('matches tags case-insensitively and keeps the tag as listed', () => {
    expect(choose(tracks('EN-us'), {}, 'en-US')).toEqual({ language: 'EN-us', source: 'captions' })
    expect(choose(tracks('zh-Hans'), {}, 'zh-hans')).toEqual({ language: 'zh-Hans', source: 'captions' })
  })

  it('does not match a language by a mere prefix of its letters', () => {
    expect(choose(tracks('eno'), {})).toEqual({ language: 'eno', source: 'captions' }) // only through the any-creator fallback
    expect(choose({}, tracks('eno'))).toBeUndefined()
  })

  it('falls back to any creator track rather than nothing', () => {
    expect(choose(tracks('ko'), {}, 'de')).toEqual({ language: 'ko', source: 'captions' })
  })

  it('never picks an arbitrary auto-caption track', () => {
    expect(choose({}, tracks('de', 'fr', 'ja'))).toBeUndefined()
    expect(choose({}, tracks('de', 'fr'), 'it', 'es')).toBeUndefined()
  })

  it("skips YouTube's live_chat pseudo-track", () => {
    const liveChat: CaptionTracks = { live_chat: [{ ext: 'json', url: 'https://example.test/chat' }] }
    expect(choose(liveChat, {})).toBeUndefined()
    expect(choose(liveChat, {}, 'live_chat')).toBeUndefined()
    expect(choose({ ...liveChat, ...tracks('en') }, {})).toEqual({ language: 'en', source: 'captions' })
  })

  it('prefers a track offered as VTT among equally good matches', () => {
    expect(choose(tracks(['en-GB', 'srt'], ['en-US', 'srt', 'vtt']), {})).toEqual({ language: 'en-US', source: 'captions' })
    expect(choose(tracks(['ko', 'ttml'], ['ja', 'vtt']), {}, 'de')).toEqual({ language: 'ja', source: 'captions' })
  })

  it('keeps a better language match over VTT availability', () => {
    expect(choose(tracks(['en', 'srt'], ['en-US', 'vtt']), {})).toEqual({ language: 'en', source: 'captions' })
  })

  it('ignores tracks only offered in formats that cannot become VTT', () => {
    expect(choose(tracks(['en', 'json3', 'srv3']), tracks('en'))).toEqual({ language: 'en', source: 'auto-captions' })
    expect(choose(tracks(['en', 'json3']), {})).toBeUndefined()
  })

  it('takes the first listed track among equals', () => {
    expect(choose(tracks('en-US', 'en-GB'), {})).toEqual({ language: 'en-US', source: 'captions' })
    expect(choose(tracks('en-GB', 'en-US'), {})).toEqual({ language: 'en-GB', source: 'captions' })
  })
})
