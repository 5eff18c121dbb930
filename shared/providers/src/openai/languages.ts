// Whisper's `verbose_json` names the language in English ('english'), while captions and the
// rest of the pipeline use ISO 639-1 codes ('en'). These are the languages Whisper knows, with
// the aliases its tokenizer accepts.
const WHISPER_LANGUAGES: Record<string, string> = {
  afrikaans: 'af', albanian: 'sq', amharic: 'am', arabic: 'ar', armenian: 'hy', assamese: 'as',
  azerbaijani: 'az', bashkir: 'ba', basque: 'eu', belarusian: 'be', bengali: 'bn', bosnian: 'bs',
  breton: 'br', bulgarian: 'bg', burmese: 'my', myanmar: 'my', cantonese: 'yue', castilian: 'es',
  catalan: 'ca', valencian: 'ca', chinese: 'zh', mandarin: 'zh', croatian: 'hr', czech: 'cs',
  danish: 'da', dutch: 'nl', flemish: 'nl', english: 'en', estonian: 'et', faroese: 'fo',
  finnish: 'fi', french: 'fr', galician: 'gl', georgian: 'ka', german: 'de', greek: 'el',
  gujarati: 'gu', 'haitian creole': 'ht', haitian: 'ht', hausa: 'ha', hawaiian: 'haw', hebrew: 'he',
  hindi: 'hi', hungarian: 'hu', icelandic: 'is', indonesian: 'id', italian: 'it', japanese: 'ja',
  javanese: 'jv', kannada: 'kn', kazakh: 'kk', khmer: 'km', korean: 'ko', lao: 'lo', latin: 'la',
  latvian: 'lv', lingala: 'ln', lithuanian: 'lt', luxembourgish: 'lb', letzeburgesch: 'lb',
  macedonian: 'mk', malagasy: 'mg', malay: 'ms', malayalam: 'ml', maltese: 'mt', maori: 'mi',
  marathi: 'mr', moldavian: 'ro', moldovan: 'ro', mongolian: 'mn', nepali: 'ne', norwegian: 'no',
  nynorsk: 'nn', occitan: 'oc', pashto: 'ps', pushto: 'ps', persian: 'fa', polish: 'pl',
  portuguese: 'pt', punjabi: 'pa', panjabi: 'pa', romanian: 'ro', russian: 'ru', sanskrit: 'sa',
  serbian: 'sr', shona: 'sn', sindhi: 'sd', sinhala: 'si', sinhalese: 'si', slovak: 'sk',
  slovenian: 'sl', somali: 'so', spanish: 'es', sundanese: 'su', swahili: 'sw', swedish: 'sv',
  tagalog: 'tl', tajik: 'tg', tamil: 'ta', tatar: 'tt', telugu: 'te', thai: 'th', tibetan: 'bo',
  turkish: 'tr', turkmen: 'tk', ukrainian: 'uk', urdu: 'ur', uzbek: 'uz', vietnamese: 'vi',
  welsh: 'cy', yiddish: 'yi', yoruba: 'yo',
}

/**
 * The ISO 639-1 code for a language as a transcription API reports it: Whisper's English
 * names are mapped, codes pass through lower-cased, anything else is returned as given.
 *
 * @example
 * ```ts
 * languageCode('english') // 'en'
 * languageCode('pt-BR') // 'pt-br'
 * ```
 */
export function languageCode(language: string): string {
  const key = language.trim().toLowerCase()
  return WHISPER_LANGUAGES[key] ?? key
}
