import { describe, expect, it } from 'vitest'
import { parseVtt, parseVttLines, VttError } from './index.ts'

describe('parseVtt', () => {
  it('skips the header, its metadata and NOTE, STYLE and REGION blocks', () => {
    const vtt = [
      '\uFEFFWEBVTT - a talk about caching',
      'Kind: captions',
      'Language: en',
      '',
      'REGION',
      'id:fred width:40%',
      '',
      'STYLE',
      '::cue { color: yellow }',
      '',
      'NOTE this is a comment',
      'spanning two lines',
      '',
      'NOTE',
      'another one',
      '',
      '00:00:01.000 --> 00:00:02.000',
      'Hello',
    ].join('\n')
    expect(parseVtt(vtt)).toEqual([{ start: 1, end: 2, text: 'Hello' }])
  })

  it('reads timestamps with and without hours, ignoring cue identifiers and settings', () => {
    const vtt = [
      'WEBVTT',
      '',
      'intro',
      '00:01.500 --> 00:03.250 align:start position:0%',
      'first',
      '',
      '42',
      '01:02:03.456 --> 01:02:05.000 line:90% size:50%',
      'second',
      '',
      '00:31.577 --> 00:59.999',
      'third',
    ].join('\n')
    expect(parseVtt(vtt)).toEqual([
      { start: 1.5, end: 3.25, text: 'first' },
      { start: 3723.456, end: 3725, text: 'second' },
      { start: 31.577, end: 59.999, text: 'third' },
    ])
  })

  it('handles CRLF line endings and joins multi-line text with a space', () => {
    const vtt =
      'WEBVTT\r\nKind: captions\r\n\r\n00:00.000 --> 00:02.000\r\nfirst line\r\nsecond line\r\n\r\n00:02.000 --> 00:03.000\r\nnext\r\n'
    expect(parseVtt(vtt)).toEqual([
      { start: 0, end: 2, text: 'first line second line' },
      { start: 2, end: 3, text: 'next' },
    ])
  })

  it('strips inline tags and timestamps', () => {
    const vtt = [
      'WEBVTT',
      '',
      '00:00:00.000 --> 00:00:02.000',
      '<v Speaker One>so<00:00:00.320><c> today</c><00:00:00.640><c.colorE5E5E5> we</c></v>',
      '<i>really</i> <b>mean</b> it',
    ].join('\n')
    expect(parseVtt(vtt)).toEqual([{ start: 0, end: 2, text: 'so today we really mean it' }])
  })

  it('decodes entities after stripping tags, so escaped markup stays text', () => {
    const vtt = [
      'WEBVTT',
      '',
      '00:00.000 --> 00:01.000',
      'Tom &amp; Jerry &lt;i&gt; &quot;hi&quot; it&#39;s&nbsp;fine &#x263A; &#233; &bogus;',
    ].join('\n')
    expect(parseVtt(vtt)[0]?.text).toBe('Tom & Jerry <i> "hi" it\'s fine \u263A \u00e9 &bogus;')
  })

  it('collapses whitespace and drops cues left empty', () => {
    const vtt = [
      'WEBVTT',
      '',
      '00:00.000 --> 00:01.000',
      ' ',
      '   spaced \t  out   ',
      '',
      '00:01.000 --> 00:02.000',
      ' ',
      '<c> </c>',
      '',
      '00:02.000 --> 00:03.000',
      '',
      '00:03.000 --> 00:04.000',
      'kept',
    ].join('\n')
    expect(parseVtt(vtt)).toEqual([
      { start: 0, end: 1, text: 'spaced out' },
      { start: 3, end: 4, text: 'kept' },
    ])
  })

  it('keeps YouTube lines of a single space inside the cue instead of splitting it', () => {
    const vtt =
      'WEBVTT\n\n00:00:02.350 --> 00:00:02.360 align:start position:0%\nso today\n \n\n00:00:02.360 --> 00:00:05.000\n \nabout caching\n'
    expect(parseVttLines(vtt)).toEqual([
      { start: 2.35, end: 2.36, lines: ['so today'] },
      { start: 2.36, end: 5, lines: ['about caching'] },
    ])
  })

  it('skips a cue with a bad timing line and keeps the rest', () => {
    const vtt = [
      'WEBVTT',
      '',
      '00:00.000 --> 00:01.000',
      'one',
      '',
      '00:0x.000 --> 00:02.000',
      'garbled',
      '',
      '00:02.000 --> 00:01.000',
      'backwards',
      '',
      '00:61.000 --> 00:62.000',
      'out of range',
      '',
      '00:03.000 --> 00:04.000',
      'two',
    ].join('\n')
    expect(parseVtt(vtt).map((cue) => cue.text)).toEqual(['one', 'two'])
  })

  it('reads cues that lack the blank line between them', () => {
    const vtt = 'WEBVTT\n00:00.000 --> 00:01.000\none\n00:01.000 --> 00:02.000\ntwo'
    expect(parseVtt(vtt)).toEqual([
      { start: 0, end: 1, text: 'one' },
      { start: 1, end: 2, text: 'two' },
    ])
  })

  it('throws a VttError naming what it found when the signature is missing', () => {
    expect(() => parseVtt('1\n00:00:01,000 --> 00:00:02,000\nan SRT file')).toThrow(VttError)
    expect(() => parseVtt('1\n00:00:01,000 --> 00:00:02,000\nan SRT file')).toThrow(/WEBVTT.*found "1"/)
    expect(() => parseVtt('')).toThrow(VttError)
    expect(() => parseVtt('WEBVTTX\n')).toThrow(VttError)
    expect(() => parseVtt('<html>WEBVTT')).toThrow(VttError)
  })

  it('accepts a file with only a header', () => {
    expect(parseVtt('WEBVTT\n')).toEqual([])
    expect(parseVtt('WEBVTT')).toEqual([])
  })

  it('keeps when each word of a line with inline timestamps is said', () => {
    const [cue] = parseVttLines(
      'WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nhi everyone\nso<00:00:01.400><c> today</c><00:00:02.100><c> we</c>',
    )
    expect(cue).toEqual({
      start: 1,
      end: 3,
      lines: ['hi everyone', 'so today we'],
      wordStarts: [undefined, [1, 1.4, 2.1]],
    })
    // A timestamp inside a word, or one going backwards, leaves the line with the cue's times only.
    expect(parseVttLines('WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nto<00:00:01.400>day')[0]).not.toHaveProperty(
      'wordStarts',
    )
    expect(
      parseVttLines('WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nso<00:00:00.400><c> today</c>')[0],
    ).not.toHaveProperty('wordStarts')
  })
})
