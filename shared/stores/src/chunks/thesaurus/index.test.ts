import { afterAll, describe, expect, it } from 'vitest'
import { closeThesaurus, lemmas, relatedWords } from './index.ts'

afterAll(closeThesaurus)

describe('lemmas', () => {
  it('finds the words an inflected form may be, by WordNet rules and exception lists', () => {
    expect(lemmas('bikes')).toContainEqual(['bike', 'noun'])
    expect(lemmas('designed')).toContainEqual(['design', 'verb'])
    expect(lemmas('taller')).toContainEqual(['tall', 'adj'])
    // An irregular word's lemma comes with its forms (wordForms in the text analysis).
    expect(lemmas('geese')).toEqual([])
    expect(lemmas('geese', ['goose'])).toContainEqual(['goose', 'noun'])
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

  it('never gives the word or its own lemma, and reads fewer senses when asked', () => {
    const related = relatedWords('bikes')
    expect(related).not.toContain('bike')
    expect(related).not.toContain('bikes')
    expect(relatedWords('plant', { senses: 1 }).length).toBeLessThan(relatedWords('plant').length)
  })

  it('gives nothing for a word WordNet lacks', () => {
    expect(relatedWords('xqzzv')).toEqual([])
  })
})
