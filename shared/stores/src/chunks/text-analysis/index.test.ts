import { describe, expect, it } from 'vitest'
import { analyzeQuery, expandUnknownTerms, hasStopWords, stem, stopWords, tokenize, wordForms, words } from './index.ts'

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

describe('expandUnknownTerms', () => {
  /** An index holding exactly the terms of `text`: a word is held when its stem is. */
  const indexOf = (text: string) => {
    const terms = new Set(tokenize(text))
    const asked: string[][] = []
    const known = (list: readonly string[]) => {
      asked.push([...list])
      return new Set(list.filter((word) => terms.has(stem(word))))
    }
    return { known, asked }
  }

  it('widens a word no chunk has to related words the index has, in its own slot', () => {
    const { known } = indexOf('There are a billion bicycles in the world, and the wheel is old.')
    const [bikes, world] = expandUnknownTerms(analyzeQuery('how many bikes in the world'), known)
    expect(bikes!.word).toBe('bikes')
    expect(bikes!.forms).toContain('bicycle')
    expect(bikes!.stems).toContain(stem('bicycles'))
    // Only words the index holds are added.
    expect(bikes!.forms).not.toContain('motorcycle')
    expect(world!.forms).toEqual(['world'])
  })

  it('leaves a question alone, asking the index once, when it has every word', () => {
    const { known, asked } = indexOf('How many bikes are there in the world?')
    const terms = analyzeQuery('how many bikes in the world')
    const expanded = expandUnknownTerms(terms, known)
    expect(expanded).toEqual(terms)
    for (const [index, term] of expanded.entries()) expect(term).toBe(terms[index])
    expect(asked).toHaveLength(1)
  })

  it('splits a compound the talk says apart into two words the index has', () => {
    const { known } = indexOf('The wax is made by worker bees from glands under their bodies.')
    const [beeswax] = expandUnknownTerms(analyzeQuery('where does beeswax come from'), known)
    expect(beeswax!.forms).toEqual(expect.arrayContaining(['beeswax', 'bees', 'wax']))
  })

  it('keeps at most maxExpansions related words, nearest first, and the word unchanged when none is held', () => {
    const { known } = indexOf('bicycle cycle wheel pedal')
    const [bikes] = expandUnknownTerms(analyzeQuery('bikes'), known, { maxExpansions: 1 })
    expect(bikes!.forms).toEqual(['bikes', 'bicycle'])
    const nothing = indexOf('an unrelated passage about bread')
    expect(expandUnknownTerms(analyzeQuery('bikes'), nothing.known)).toEqual(analyzeQuery('bikes'))
  })

  it('widens a superlative the index lacks in its own degree, though the index has the adjective', () => {
    const { known } = indexOf('Spring tides have the largest range. A big colony swarms.')
    const [tides, biggest] = expandUnknownTerms(analyzeQuery('when are the tides biggest'), known)
    expect(tides!.forms).toEqual(['tides'])
    expect(biggest!.forms).toEqual(expect.arrayContaining(['big', 'biggest', 'largest']))
    // Said in its own degree, it stays as it is.
    const said = indexOf('The biggest tides come at full moon.')
    expect(expandUnknownTerms(analyzeQuery('when are the tides biggest'), said.known)[1]!.forms).not.toContain(
      'largest',
    )
  })
})
