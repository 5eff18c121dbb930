import { describe, expect, it } from 'vitest'
import { chooseCaptionTrack, originalLanguage, spokenLanguage } from './caption-track.ts'
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

const choose = (subtitles: CaptionTracks, automaticCaptions: CaptionTracks, requested?: string, language?: string) =>
  chooseCaptionTrack({ subtitles, automaticCaptions, ...(language ? { language } : {}) }, requested)

const captions = (language: string, choice: string) => ({ language, source: 'captions', choice })
const auto = (language: string, choice: string) => ({ language, source: 'auto-captions', choice })

/** YouTube's automatic tracks of a video spoken in `spoken`: its `-orig` track, itself again, and machine translations. */
const youtubeAuto = (spoken: string, ...translations: string[]) => tracks(`${spoken}-orig`, spoken, ...translations)

describe('chooseCaptionTrack', () => {
  it('has nothing to choose when there are no tracks', () => {
    expect(choose({}, {})).toBeUndefined()
    expect(choose({}, {}, 'en')).toBeUndefined()
  })

  it('prefers creator captions to auto-captions in the same language', () => {
    expect(choose(tracks('en'), tracks('en'))).toEqual(captions('en', 'english'))
  })

  it('uses auto-captions in English when there are no creator captions and no original language is known', () => {
    expect(choose({}, tracks('en', 'de', 'fr'))).toEqual(auto('en', 'english'))
  })

  it("takes YouTube's -orig track: the original language, not a machine translation", () => {
    expect(choose({}, youtubeAuto('de', 'en', 'fr'))).toEqual(auto('de-orig', 'original-language'))
    expect(choose({}, youtubeAuto('ja', 'en'), 'en')).toEqual(auto('ja-orig', 'original-language'))
    expect(choose({}, youtubeAuto('en', 'de'), 'de')).toEqual(auto('en-orig', 'original-language'))
  })

  it("prefers the creator's captions in the original language to its speech recognition", () => {
    expect(choose(tracks('de', 'en'), youtubeAuto('de', 'en'), 'en')).toEqual(captions('de', 'original-language'))
    expect(choose(tracks('en-GB'), youtubeAuto('en'))).toEqual(captions('en-GB', 'original-language'))
  })

  it("prefers the original language to the requested one, the video's language field first", () => {
    expect(choose(tracks('en', 'de'), {}, 'de', 'en')).toEqual(captions('en', 'original-language'))
    expect(choose(tracks('en', 'fr'), {}, 'de', 'fr')).toEqual(captions('fr', 'original-language'))
    expect(choose({}, tracks('fr'), undefined, 'fr')).toEqual(auto('fr', 'original-language'))
    // The site's language field wins over the -orig track when they disagree.
    expect(choose(tracks('pt'), youtubeAuto('es'), undefined, 'pt')).toEqual(captions('pt', 'original-language'))
  })

  it('takes the requested language when the original one has no track, creator captions then auto-captions', () => {
    expect(choose(tracks('en', 'de'), tracks('en', 'de'), 'de')).toEqual(captions('de', 'requested-language'))
    expect(choose(tracks('en'), tracks('en', 'de'), 'de')).toEqual(auto('de', 'requested-language'))
    expect(choose(tracks('de', 'en'), {}, 'de', 'ko')).toEqual(captions('de', 'requested-language'))
  })

  it('falls back to English after the original and requested languages', () => {
    expect(choose(tracks('en'), {}, 'de', 'fr')).toEqual(captions('en', 'english'))
  })

  it("prefers auto-captions in the video's language to creator captions in English", () => {
    expect(choose(tracks('en'), tracks('es'), undefined, 'es')).toEqual(auto('es', 'original-language'))
    expect(choose(tracks('en'), youtubeAuto('es', 'en'))).toEqual(auto('es-orig', 'original-language'))
  })

  it('matches a language to its regional variants when there is no exact track', () => {
    expect(choose(tracks('en-GB'), {})).toEqual(captions('en-GB', 'english'))
    expect(choose(tracks('de', 'en-US', 'en-GB'), {}, 'en')).toEqual(captions('en-US', 'requested-language'))
    expect(choose({}, tracks('en-US'), 'en')).toEqual(auto('en-US', 'requested-language'))
    expect(choose({}, youtubeAuto('en'), undefined, 'en-US')).toEqual(auto('en-orig', 'original-language'))
  })

  it('takes the exact tag over a regional variant, wherever it is listed', () => {
    expect(choose(tracks('en-US', 'en'), {})).toEqual(captions('en', 'english'))
  })

  it('matches a regional request to the base language or a sibling region', () => {
    expect(choose(tracks('pt'), {}, 'pt-BR')).toEqual(captions('pt', 'requested-language'))
    expect(choose(tracks('en', 'pt-PT'), {}, 'pt-BR')).toEqual(captions('pt-PT', 'requested-language'))
  })

  it('matches tags case-insensitively and keeps the tag as listed', () => {
    expect(choose(tracks('EN-us'), {}, 'en-US')).toEqual(captions('EN-us', 'requested-language'))
    expect(choose(tracks('zh-Hans'), {}, 'zh-hans')).toEqual(captions('zh-Hans', 'requested-language'))
  })

  it('does not match a language by a mere prefix of its letters', () => {
    expect(choose(tracks('eno'), {})).toEqual(captions('eno', 'other-language')) // only through the any-creator fallback
    expect(choose({}, tracks('eno'))).toBeUndefined()
  })

  it('falls back to any creator track rather than nothing', () => {
    expect(choose(tracks('ko'), {}, 'de')).toEqual(captions('ko', 'other-language'))
  })

  it('never picks an arbitrary auto-caption track', () => {
    expect(choose({}, tracks('de', 'fr', 'ja'))).toBeUndefined()
    expect(choose({}, tracks('de', 'fr'), 'it', 'es')).toBeUndefined()
  })

  it("skips YouTube's live_chat pseudo-track", () => {
    const liveChat: CaptionTracks = { live_chat: [{ ext: 'json', url: 'https://example.test/chat' }] }
    expect(choose(liveChat, {})).toBeUndefined()
    expect(choose(liveChat, {}, 'live_chat')).toBeUndefined()
    expect(choose({ ...liveChat, ...tracks('en') }, {})).toEqual(captions('en', 'english'))
  })

  it('prefers a track offered as VTT among equally good matches', () => {
    expect(choose(tracks(['en-GB', 'srt'], ['en-US', 'srt', 'vtt']), {})).toEqual(captions('en-US', 'english'))
    expect(choose(tracks(['ko', 'ttml'], ['ja', 'vtt']), {}, 'de')).toEqual(captions('ja', 'other-language'))
  })

  it('keeps a better language match over VTT availability', () => {
    expect(choose(tracks(['en', 'srt'], ['en-US', 'vtt']), {})).toEqual(captions('en', 'english'))
  })

  it('ignores tracks only offered in formats that cannot become VTT', () => {
    expect(choose(tracks(['en', 'json3', 'srv3']), tracks('en'))).toEqual(auto('en', 'english'))
    expect(choose(tracks(['en', 'json3']), {})).toBeUndefined()
    expect(choose({}, { ...tracks(['en-orig', 'json3']), ...tracks('en') })).toEqual(auto('en', 'original-language'))
  })

  it('takes the first listed track among equals', () => {
    expect(choose(tracks('en-US', 'en-GB'), {})).toEqual(captions('en-US', 'english'))
    expect(choose(tracks('en-GB', 'en-US'), {})).toEqual(captions('en-GB', 'english'))
  })
})

describe('originalLanguage and spokenLanguage', () => {
  it("read the video's language from the site, else from the -orig track", () => {
    expect(originalLanguage({ language: 'fr', automaticCaptions: youtubeAuto('de') })).toBe('fr')
    expect(originalLanguage({ automaticCaptions: youtubeAuto('pt-BR', 'en') })).toBe('pt-BR')
    expect(originalLanguage({ automaticCaptions: tracks('en', 'de') })).toBeUndefined()
  })

  it('drop only the -orig suffix', () => {
    expect(spokenLanguage('en-orig')).toBe('en')
    expect(spokenLanguage('en')).toBe('en')
    expect(spokenLanguage('origin')).toBe('origin')
  })
})
