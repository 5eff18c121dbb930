import { describe, expect, it } from 'vitest'
import { gradeOf, inDegree, lemmas, relatedWords } from './index.ts'

describe('lemmas', () => {
  it('finds the words an inflected form may be, by WordNet rules and exception lists', () => {
    expect(lemmas('bikes')).toContainEqual(['bike', 'n'])
    expect(lemmas('designed')).toContainEqual(['design', 'v'])
    expect(lemmas('taller')).toContainEqual(['tall', 'a'])
    // An irregular word's lemma comes with its forms (wordForms in the text analysis).
    expect(lemmas('geese')).toEqual([])
    expect(lemmas('geese', ['goose'])).toContainEqual(['goose', 'n'])
    expect(lemmas('xqzzv')).toEqual([])
  })
})

describe('relatedWords', () => {
  it('gives synonyms of the most frequent senses', () => {
    expect(relatedWords('bikes')).toContain('bicycle')
    expect(relatedWords('biggest', { forms: ['big', 'bigger'] })).toContain('large')
  })

  it('follows derivations to the derived word and its synonyms: designed → designer → architect', () => {
    const related = relatedWords('designed')
    expect(related).toContain('designer')
    expect(related).toContain('architect')
  })

  it("gives an adjective's attribute and its graded forms, which the stemmer does not join", () => {
    expect(relatedWords('tall')).toEqual(expect.arrayContaining(['height', 'taller', 'tallest']))
  })

  it('never gives the word, its forms or its lemma', () => {
    const related = relatedWords('bikes')
    expect(related).not.toContain('bike')
    expect(related).not.toContain('bikes')
    expect(relatedWords('built', { forms: ['build', 'built'] })).not.toContain('build')
  })

  it('gives nothing for a word WordNet lacks', () => {
    expect(relatedWords('xqzzv')).toEqual([])
  })
})

describe('degrees', () => {
  it('knows a comparative or superlative by the adjective it grades, and a noun or verb that ends so as none', () => {
    expect(gradeOf('tallest')).toEqual({ adjective: 'tall', degree: 'est' })
    expect(gradeOf('cheaper')).toEqual({ adjective: 'cheap', degree: 'er' })
    expect(gradeOf('hottest', ['hot', 'hotter', 'hottest'])).toEqual({ adjective: 'hot', degree: 'est' })
    for (const word of ['forest', 'interest', 'number', 'water', 'tall', 'xqzzvest'])
      expect(gradeOf(word)).toBeUndefined()
  })

  it('puts an adjective in a degree, irregular forms first', () => {
    expect(inDegree('large', 'est')).toBe('largest')
    expect(inDegree('happy', 'er')).toBe('happier')
    expect(inDegree('hot', 'est', ['hot', 'hotter', 'hottest'])).toBe('hottest')
  })

  it("gives a graded word's related adjectives in its degree first, and no ending to a long adjective", () => {
    const related = relatedWords('biggest', { forms: ['big', 'bigger', 'biggest'] })
    expect(related[0]).toBe('largest')
    expect(related).toContain('large')
    expect(relatedWords('cheapest').some((word) => word.startsWith('inexpensiv') && word.endsWith('est'))).toBe(false)
    // A lemma WordNet lists in a degree ("older") gets no degree of its own ("olderer").
    expect(relatedWords('older')).not.toContain('olderer')
    expect(relatedWords('older')).toContain('oldest')
  })
})
