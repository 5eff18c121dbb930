import { describe, expect, it } from 'vitest'
import { bestSentenceIndex, bestSentenceIndexes, momentOf, momentsOf, queryTerms, sentenceStarts } from './index.ts'

const secondsOf = (...args: Parameters<typeof momentsOf>) => momentsOf(...args).map((moment) => moment.seconds)

const passage = {
  text: 'The tower fell in earthquakes. Later the sultan Qaitbay used the fallen blocks to build a fortress. It still stands.',
  start: 100,
  end: 120,
  sentences: [
    { offset: 0, start: 100 },
    { offset: 31, start: 104.5 },
    { offset: 99, start: 111 },
  ],
}

describe('momentOf', () => {
  it('is the start of the sentence that best matches the question, stop words and word forms aside', () => {
    expect(momentOf(passage, 'what was built from the fallen blocks')).toEqual({
      seconds: 104.5,
      sentence: 'Later the sultan Qaitbay used the fallen blocks to build a fortress.',
    })
  })

  it('starts a sentence early when the best one names the asked-about thing as known ("This fortress…"), unless that is far back', () => {
    // "This fortress" is the fortress of the sentence before: a link to it would start after it is told of.
    const known = { ...passage, text: passage.text.replace('It still stands.', 'This fortress still stands.') }
    // What it says runs on through the sentence that answers.
    expect(momentOf(known, 'is the fortress still standing?')).toEqual({
      seconds: 104.5,
      sentence: 'Later the sultan Qaitbay used the fallen blocks to build a fortress. This fortress still stands.',
    })
    const slow = {
      ...known,
      end: 140,
      sentences: [passage.sentences[0]!, passage.sentences[1]!, { offset: 99, start: 130 }],
    }
    expect(momentOf(slow, 'is the fortress still standing?').seconds).toBe(130)
    // A sentence that opens with its own subject stays where it is.
    expect(momentOf(passage, 'fallen blocks').seconds).toBe(104.5)
  })

  it('stays on a sentence whose pronoun or demonstrative opens what it newly says ("It still stands.", "These are…")', () => {
    expect(momentOf(passage, 'does it still stand?').seconds).toBe(111)
    const named = { ...passage, text: passage.text.replace('It still stands.', 'These are the ruins.') }
    expect(momentOf(named, 'what are the ruins').seconds).toBe(111)
  })

  it('starts a consequence ("So…") at its cause', () => {
    const consequence = { ...passage, text: passage.text.replace('It still stands.', 'So it stands today.') }
    expect(momentOf(consequence, 'does it stand today').seconds).toBe(104.5)
  })

  it('starts an unpunctuated cue group that refers back at the group before: it may be the second half of a sentence', () => {
    const text = 'let the dough rest for an hour before the salt this rest is called the autolyse'
    const groups = {
      text,
      start: 50,
      end: 62,
      sentences: [
        { offset: 0, start: 50 },
        { offset: 47, start: 57 },
      ],
    }
    expect(momentOf(groups, 'what is the autolyse').seconds).toBe(50)
    const punctuated = {
      ...groups,
      text: 'Let the dough rest for an hour before the salt. This rest is called the autolyse.',
      sentences: [groups.sentences[0]!, { offset: 48, start: 57 }],
    }
    expect(momentOf(punctuated, 'what is the autolyse').seconds).toBe(57)
  })

  it('counts a word every sentence says for little, so a rarer word decides', () => {
    const sentences = [
      'The tides rise twice a day.',
      'The tides of the Bay of Fundy rise sixteen metres.',
      'The tides are small in the Mediterranean.',
    ]
    expect(bestSentenceIndex(sentences, queryTerms('where do tides rise sixteen metres'))).toBe(1)
  })

  it('counts a question word once, whichever of the forms it was widened to a sentence says', () => {
    const tower = {
      text: 'Estimates of its height range widely. It was taller than any tower, the tallest of its age.',
      start: 0,
      end: 10,
      sentences: [
        { offset: 0, start: 0 },
        { offset: 38, start: 4 },
      ],
    }
    // Each term on its own: the sentence with two forms of "tall" wins.
    expect(momentOf(tower, ['tall', 'taller', 'tallest', 'height']).seconds).toBe(4)
    // The forms of one word (as the index widened it, ChunkHit.queryTerms): a tie, the earliest wins.
    expect(momentOf(tower, [['tall', 'taller', 'tallest', 'height']]).seconds).toBe(0)
    expect(secondsOf([tower], [['tall', 'taller', 'tallest', 'height'], ['tower']])).toEqual([4])
  })

  it('is the first sentence when nothing matches, and the chunk start for a chunk without sentence times', () => {
    expect(momentOf(passage, 'zeppelin').seconds).toBe(100)
    const { sentences: _none, ...old } = passage
    expect(momentOf(old, 'fallen blocks')).toEqual({ seconds: 100, sentence: old.text })
  })

  it('does not trust sentence data that does not fit the chunk', () => {
    expect(
      sentenceStarts({
        ...passage,
        sentences: [
          { offset: 31, start: 90 },
          { offset: 20, start: 105 },
          { offset: 500, start: 106 },
          { offset: 40, start: 130 },
        ],
      }),
    ).toEqual([
      { offset: 0, start: 100 },
      { offset: 31, start: 100 },
      { offset: 40, start: 120 },
    ])
  })

  it('matches words with diacritics and in other scripts as the index does', () => {
    const text = 'Il a dit bonjour. Le café était naïf. 東京 は 大きい。'
    const sentences = [
      { offset: 0, start: 0 },
      { offset: 18, start: 2 },
      { offset: 38, start: 4 },
    ]
    expect(momentOf({ text, start: 0, end: 6, sentences }, 'cafe naive').seconds).toBe(2)
    expect(momentOf({ text, start: 0, end: 6, sentences }, '東京').seconds).toBe(4)
  })
})

describe('momentsOf', () => {
  // Two sentences hold two words of the question each, "steam" in both: alone, a tie the earliest wins.
  const trains = {
    text: 'These steam trains were fast and cheap. They were also dangerous, since steam boilers could burst.',
    start: 60,
    end: 75,
    sentences: [
      { offset: 0, start: 60 },
      { offset: 40, start: 66 },
    ],
  }
  const others = [
    { text: 'Steam trains crossed the country by 1850. Trains carried the mail too.', start: 40, end: 60 },
    { text: 'Railways built stations in every town. Most trains ran on coal.', start: 20, end: 40 },
  ].map((passage) => ({
    ...passage,
    sentences: [
      { offset: 0, start: passage.start },
      { offset: passage.text.indexOf('. ') + 2, start: passage.start + 8 },
    ],
  }))

  it('weighs each word by how few sentences of all the hits say it, so the word the talk is about does not decide', () => {
    expect(momentOf(trains, 'why were steam trains dangerous').seconds).toBe(60)
    // The other hits say "trains" again and again and "dangerous" never: the link goes to the danger.
    expect(secondsOf([trains, ...others], 'why were steam trains dangerous')).toEqual([66, 40, 28])
  })

  it("is each passage's own moment when it is the only hit", () => {
    expect(secondsOf([passage], 'what was built from the fallen blocks')).toEqual([104.5])
    expect(secondsOf([], 'anything')).toEqual([])
  })

  it('chooses sentences of plain passages alike', () => {
    const sentences = [
      ['These steam trains were fast and cheap.', 'They were also dangerous, since steam boilers could burst.'],
      ['Steam trains crossed the country by 1850.', 'Trains carried the mail too.'],
    ]
    expect(bestSentenceIndex(sentences[0]!, queryTerms('why were steam trains dangerous'))).toBe(0)
    expect(bestSentenceIndexes(sentences, queryTerms('why were steam trains dangerous'))).toEqual([1, 0])
  })
})
