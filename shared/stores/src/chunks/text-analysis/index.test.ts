import { describe, expect, it } from 'vitest'
import { analyzeQuery, hasStopWords, stem, stopWords, tokenize, wordForms, words } from './index.ts'

const wordsOf = (text: string, languages?: string[]) =>
  analyzeQuery(text, languages ? { languages } : {}).map((term) => term.word)

describe('words and tokenize', () => {
  it('fold case and Latin diacritics and cut on anything but letters and digits', () => {
    expect(words('Naïve café: C++!')).toEqual(['naive', 'cafe', 'c'])
    expect(words('caf\u00e9')).toEqual(words('cafe\u0301'))
    expect(tokenize('Caching: the naïve way!')).toEqual(['cach', 'the', 'naiv', 'wai'])
  })

  it('stem regular forms together', () => {
    expect(stem('lives')).toBe(stem('live'))
    expect(stem('building')).toBe(stem('build'))
  })
})

describe('stop words', () => {
  it('drops English stop words, including the auxiliaries and question words of a question', () => {
    expect(wordsOf('What was built from the fallen blocks?')).toEqual(['built', 'fallen', 'blocks'])
    expect(wordsOf("Why does the server's cache miss?")).toEqual(['server', 'cache', 'miss'])
  })

  it('keeps every word of a question made only of stop words', () => {
    expect(wordsOf('what is it')).toEqual(['what', 'is', 'it'])
  })

  it('reads the languages given, by ISO 639-1 code, tag or list name', () => {
    expect(wordsOf('wie funktioniert der Speicher', ['de'])).toEqual(['funktioniert', 'speicher'])
    expect(wordsOf('wie funktioniert der Speicher', ['en'])).toEqual(['wie', 'funktioniert', 'der', 'speicher'])
    expect(wordsOf('Qui est le président?', ['fr-CA', 'en'])).toEqual(['president'])
    expect(stopWords(['pt-BR']).size).toBeGreaterThan(0)
    expect(stopWords(['deu'])).toEqual(stopWords(['de']))
  })

  it('folds the lists like text, and ignores a language without one', () => {
    expect(stopWords(['fr']).has('etre')).toBe(true)
    expect(hasStopWords('xx')).toBe(false)
    expect(wordsOf('the caching layer', ['xx'])).toEqual(['the', 'caching', 'layer'])
  })
})

describe('word forms', () => {
  it('gives every form of an irregular verb or noun, the lemma first', () => {
    expect(wordForms('built')).toEqual(['build', 'built'])
    expect(wordForms('build')).toEqual(['build', 'built'])
    expect(wordForms('fallen')).toEqual(expect.arrayContaining(['fall', 'fell', 'fallen']))
    expect(wordForms('children')).toEqual(['child', 'children'])
    // Comparatives the stemmer leaves apart ("bigger" stems to "bigger", not "big").
    expect(wordForms('big')).toEqual(['big', 'bigger', 'biggest'])
    expect(wordForms('better')).toEqual(expect.arrayContaining(['good', 'better', 'best']))
  })

  it('leaves regular words alone: the stemmer joins their forms', () => {
    expect(wordForms('lives')).toEqual(['lives'])
    expect(analyzeQuery('lives')[0]!.stems).toEqual([stem('live')])
  })

  it('counts a word once however many of its forms the question has', () => {
    expect(analyzeQuery('build built building builds').map((term) => term.word)).toEqual(['build'])
    expect(analyzeQuery('built')[0]!.stems).toEqual(['build', 'built'])
  })

  it('caps the number of terms', () => {
    expect(analyzeQuery('alpha beta gamma delta', { maxTerms: 3 })).toHaveLength(3)
  })
})
