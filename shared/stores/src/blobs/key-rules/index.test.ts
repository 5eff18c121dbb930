import { describe, expect, it } from 'vitest'
import { assertBlobKey, assertBlobPrefix, InvalidBlobKeyError } from './index.ts'

describe('assertBlobKey', () => {
  it.each(['videos/abc/captions.en.vtt', 'a', 'a/b-c_d.e:f'])('accepts %j', (key) => {
    expect(() => assertBlobKey(key)).not.toThrow()
  })

  it.each(['', '/abs', 'a/../b', '..', './a', 'a//b', 'a/', 'a\\b', 'a/.hidden', 'a\0b', 'x'.repeat(1025)])(
    'rejects %j',
    (key) => {
      expect(() => assertBlobKey(key)).toThrow(InvalidBlobKeyError)
    },
  )
})

describe('assertBlobPrefix', () => {
  it('allows one trailing slash only', () => {
    expect(() => assertBlobPrefix('videos/abc/')).not.toThrow()
    expect(() => assertBlobPrefix('videos/ab')).not.toThrow()
    expect(() => assertBlobPrefix('videos//')).toThrow(InvalidBlobKeyError)
    expect(() => assertBlobPrefix('/')).toThrow(InvalidBlobKeyError)
    expect(() => assertBlobPrefix('')).toThrow(InvalidBlobKeyError)
  })
})
