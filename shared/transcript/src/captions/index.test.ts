import { describe, expect, it } from 'vitest'
import { parseVtt } from '../vtt/index.ts'
import { rollingCaptions, seededRandom, spokenWords } from '../testing/index.ts'
import { transcriptFromCaptions } from './index.ts'

const BRIEF_SAMPLE = `WEBVTT
Kind: captions
Language: en

00:00:00.000 --> 00:00:02.350 align:start position:0%
 
so<00:00:00.320><c> today</c><00:00:00.640><c> we're</c><00:00:00.960><c> going</c><00:00:01.280><c> to</c><00:00:01.600><c> talk</c>

00:00:02.350 --> 00:00:02.360 align:start position:0%
so today we're going to talk
 

00:00:02.360 --> 00:00:05.120 align:start position:0%
so today we're going to talk
about<00:00:02.800><c> caching</c><00:00:03.100><c> in</c><00:00:03.500><c> distributed</c><00:00:04.000><c> systems</c>
`

// Shaped like a real YouTube auto-caption download: CRLF endings, a roll of two lines, a transition
// cue after every new line, and one line ("so what do we do") spoken twice, not in a row.
const ROLLING_AUTO_CAPTIONS = `WEBVTT
Kind: captions
Language: en

00:00:00.030 --> 00:00:02.350 align:start position:0%
 
so<00:00:00.320><c> today</c><00:00:00.640><c> we're</c><00:00:00.960><c> going</c><00:00:01.280><c> to</c><00:00:01.600><c> talk</c>

00:00:02.350 --> 00:00:02.360 align:start position:0%
so today we're going to talk
 

00:00:02.360 --> 00:00:05.120 align:start position:0%
so today we're going to talk
about<00:00:02.800><c> caching</c><00:00:03.100><c> in</c><00:00:03.500><c> distributed</c><00:00:04.000><c> systems</c>

00:00:05.120 --> 00:00:05.130 align:start position:0%
about caching in distributed systems
 

00:00:05.130 --> 00:00:07.990 align:start position:0%
about caching in distributed systems
and<00:00:05.600><c> why</c><00:00:05.900><c> it's</c><00:00:06.200><c> harder</c><00:00:06.700><c> than</c><00:00:07.000><c> it</c><00:00:07.300><c> looks</c>

00:00:07.990 --> 00:00:08.000 align:start position:0%
and why it's harder than it looks
 

00:00:08.000 --> 00:00:10.470 align:start position:0%
and why it's harder than it looks
so<00:00:08.400><c> what</c><00:00:08.700><c> do</c><00:00:09.000><c> we</c><00:00:09.300><c> do</c>

00:00:10.470 --> 00:00:10.480 align:start position:0%
so what do we do
 

00:00:10.480 --> 00:00:13.200 align:start position:0%
so what do we do
the<00:00:10.900><c> first</c><00:00:11.300><c> problem</c><00:00:11.700><c> is</c><00:00:12.100><c> invalidation</c>

00:00:13.200 --> 00:00:13.210 align:start position:0%
the first problem is invalidation
 

00:00:13.210 --> 00:00:16.040 align:start position:0%
the first problem is invalidation
when<00:00:13.500><c> two</c><00:00:13.800><c> servers</c><00:00:14.200><c> hold</c><00:00:14.600><c> the</c><00:00:14.900><c> same</c><00:00:15.300><c> key</c>

00:00:16.040 --> 00:00:16.050 align:start position:0%
when two servers hold the same key
 

00:00:16.050 --> 00:00:18.420 align:start position:0%
when two servers hold the same key
so<00:00:16.400><c> what</c><00:00:16.700><c> do</c><00:00:17.000><c> we</c><00:00:17.300><c> do</c>

00:00:18.420 --> 00:00:18.430 align:start position:0%
so what do we do
 

00:00:18.430 --> 00:00:21.000 align:start position:0%
so what do we do
we<00:00:18.800><c> version</c><00:00:19.200><c> every</c><00:00:19.600><c> entry</c>
`.replace(/\n/g, '\r\n')

describe('transcriptFromCaptions', () => {
  it('gives the example of the brief', () => {
    expect(transcriptFromCaptions(BRIEF_SAMPLE)).toEqual([
      // Words 0.32 s apart, then 0.76 s to "about": the pause shows as a gap after "talk".
      { start: 0, end: 1.92, text: "so today we're going to talk" },
      { start: 2.36, end: 5.12, text: 'about caching in distributed systems' },
    ])
  })

  it('keeps each line of rolling auto-captions once, timed by the cue that introduced it', () => {
    // Each line ends when its last word is said: words come every 0.3 s, and each line's last
    // word more than 0.7 s before the next line, so a pause follows every line.
    expect(transcriptFromCaptions(ROLLING_AUTO_CAPTIONS)).toEqual([
      { start: 0.03, end: 1.959, text: "so today we're going to talk" },
      { start: 2.36, end: 4.42, text: 'about caching in distributed systems' },
      { start: 5.13, end: 7.679, text: "and why it's harder than it looks" },
      { start: 8, end: 9.619, text: 'so what do we do' },
      { start: 10.48, end: 12.62, text: 'the first problem is invalidation' },
      { start: 13.21, end: 15.639, text: 'when two servers hold the same key' },
      { start: 16.05, end: 17.619, text: 'so what do we do' },
      { start: 18.43, end: 21, text: 'we version every entry' },
    ])
  })

  it('passes creator captions through unchanged', () => {
    const vtt = `WEBVTT

1
00:00:00.000 --> 00:00:03.000
<v Ann>Welcome back.</v>
Today: caching.

2
00:00:03.000 --> 00:00:05.000
Yes.

3
00:00:05.000 --> 00:00:07.000
No.

4
00:00:07.000 --> 00:00:09.000
Yes.

5
00:00:09.000 --> 00:00:11.000
I said no

6
00:00:11.000 --> 00:00:13.000
no way, said Bob &amp; me.
`
    const cues = parseVtt(vtt)
    expect(cues).toHaveLength(6)
    expect(transcriptFromCaptions(vtt)).toEqual(cues)
  })

  it('drops exact consecutive repeats and empty cues of creator captions', () => {
    const vtt = `WEBVTT

00:00.000 --> 00:02.000
Hello there.

00:02.000 --> 00:04.000
Hello there.

00:04.000 --> 00:05.000
<i> </i>

00:05.000 --> 00:07.000
How are you?
I'm fine.

00:07.000 --> 00:09.000
How are you?
I'm fine.

00:09.000 --> 00:10.000
Hello there.
`
    expect(transcriptFromCaptions(vtt)).toEqual([
      { start: 0, end: 2, text: 'Hello there.' },
      { start: 5, end: 7, text: "How are you? I'm fine." },
      { start: 9, end: 10, text: 'Hello there.' },
    ])
  })

  it('keeps only the new words when a line grows', () => {
    const vtt = `WEBVTT

00:00.000 --> 00:01.000
so today

00:01.000 --> 00:02.000
so today we're going

00:02.000 --> 00:03.000
so today we're going to talk

00:03.000 --> 00:04.000
so today we're going to talk
about caching
`
    expect(transcriptFromCaptions(vtt)).toEqual([
      { start: 0, end: 1, text: 'so today' },
      { start: 1, end: 2, text: "we're going" },
      { start: 2, end: 3, text: 'to talk' },
      { start: 3, end: 4, text: 'about caching' },
    ])
  })

  it('strips a sliding overlap of several words but not a word or two shared by chance', () => {
    const vtt = `WEBVTT

00:00.000 --> 00:02.000
we are going to talk about

00:02.000 --> 00:04.000
going to talk about caching today

00:04.000 --> 00:06.000
in the end

00:06.000 --> 00:08.000
the end is near
`
    expect(transcriptFromCaptions(vtt).map((segment) => segment.text)).toEqual([
      'we are going to talk about',
      'caching today',
      'in the end',
      'the end is near',
    ])
  })

  it('drops a cue that only repeats the tail of the line above', () => {
    const vtt = `WEBVTT

00:00.000 --> 00:02.000
the first problem is invalidation

00:02.000 --> 00:02.010
problem is invalidation
`
    expect(transcriptFromCaptions(vtt)).toEqual([{ start: 0, end: 2, text: 'the first problem is invalidation' }])
  })

  it('cuts a rolling line where a sentence ends or the speaker pauses inside it, each part from its first word to its last one said', () => {
    const vtt = `WEBVTT

00:00:01.000 --> 00:00:04.000 align:start position:0%
 
get<00:00:01.300><c> spring</c><00:00:01.700><c> tides.</c><00:00:02.200><c> The</c><00:00:02.400><c> moon</c>

00:00:04.000 --> 00:00:04.010 align:start position:0%
get spring tides. The moon
 

00:00:04.010 --> 00:00:08.000 align:start position:0%
get spring tides. The moon
pulls<00:00:04.300><c> hard</c><00:00:06.200><c> and</c><00:00:06.500><c> then</c>
`
    expect(transcriptFromCaptions(vtt)).toEqual([
      { start: 1, end: 2.2, text: 'get spring tides.' },
      { start: 2.2, end: 2.8, text: 'The moon' },
      // 1.9 s between "hard" and "and": a pause, where a new segment starts.
      { start: 4.01, end: 4.7, text: 'pulls hard' },
      { start: 6.2, end: 8, text: 'and then' },
    ])
  })
})

const VOCABULARY =
  'the a starter dough flour water salt oven basket we you it is was then after when if shape bake rest fold stretch mix slowly gently overnight bubbly sour crust loaf heat razor paper bread wheat yeast grams minutes hours'.split(
    ' ',
  )

/** A made-up talk: 25 sentences of 5 to 16 words from a small vocabulary, a third of them with a clause after a comma. */
function generatedTalk(random: () => number): string[] {
  const word = () => VOCABULARY[Math.floor(random() * VOCABULARY.length)]!
  return Array.from({ length: 25 }, () => {
    const words = Array.from({ length: 5 + Math.floor(random() * 12) }, word)
    if (random() < 0.33) words[1 + Math.floor(random() * (words.length - 2))] += ','
    const sentence = words.join(' ')
    return `${sentence[0]!.toUpperCase()}${sentence.slice(1)}.`
  })
}

describe('transcriptFromCaptions over generated rolling auto-captions without punctuation', () => {
  const SEEDS = 100
  const talks = Array.from({ length: SEEDS }, (_, seed) => {
    const words = spokenWords(generatedTalk(seededRandom(seed)), seededRandom(1000 + seed))
    return { seed, words, segments: transcriptFromCaptions(rollingCaptions(words, false)) }
  })

  it('shows every silence of 0.3 s or more between words as a gap between segments', () => {
    const missed: string[] = []
    for (const { seed, words, segments } of talks) {
      words.slice(1).forEach((word, index) => {
        const before = words[index]!
        if (word.start - before.end < 0.3) return
        const at = segments.findIndex((segment) => Math.abs(segment.start - word.start) < 0.0005)
        const gap = at > 0 ? word.start - segments[at - 1]!.end : 0
        // The gap may be a little shorter than the silence: a word's duration is estimated, not known.
        if (gap < 0.1) missed.push(`seed ${seed}: "${before.text} | ${word.text}" at ${word.start.toFixed(2)} s`)
      })
    }
    expect(missed).toEqual([])
  })

  it('still starts each segment at a word the captions time, and keeps every word once, in order', () => {
    for (const { words, segments } of talks) {
      const starts = new Set(words.map((word) => Math.round(word.start * 1000)))
      for (const segment of segments) expect(starts.has(Math.round(segment.start * 1000))).toBe(true)
      expect(segments.map((segment) => segment.text).join(' ')).toBe(
        words.map((word) => word.text.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, '')).join(' '),
      )
      segments.slice(1).forEach((segment, index) => {
        expect(segments[index]!.end).toBeLessThanOrEqual(segment.start)
        expect(segments[index]!.end).toBeGreaterThan(segments[index]!.start)
      })
    }
  })
})
