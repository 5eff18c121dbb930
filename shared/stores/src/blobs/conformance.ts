// The behaviour every BlobStore adapter must have. `open` must return an empty store.
import { beforeEach, describe, expect, it } from 'vitest'
import type { BlobStore } from '../ports.ts'

export const HOSTILE_KEYS = [
  '',
  '/etc/passwd',
  '../escape',
  'videos/../../escape',
  'videos/./a',
  'videos//a',
  'videos\\a',
  'videos/a/',
  '..',
  'videos/.hidden',
]

/**
 * Declares the BlobStore conformance suite.
 *
 * @example
 * blobStoreConformance('DirectoryBlobStore', async () => new DirectoryBlobStore({ dir: freshDir() }))
 */
export function blobStoreConformance(name: string, open: () => Promise<BlobStore>): void {
  describe(`${name} (BlobStore conformance)`, () => {
    let blobs: BlobStore
    beforeEach(async () => {
      blobs = await open()
    })

    it('round-trips binary bytes exactly', async () => {
      const bytes = new Uint8Array(256).map((_, i) => i)
      await blobs.put('videos/abc/audio.bin', bytes, 'application/octet-stream')
      const read = await blobs.get('videos/abc/audio.bin')
      expect(read).toBeInstanceOf(Uint8Array)
      expect(Array.from(read!)).toEqual(Array.from(bytes))
    })

    it('stores a string as UTF-8', async () => {
      await blobs.put('videos/abc/captions.en.vtt', 'WEBVTT\n\nnaïve — 東京', 'text/vtt')
      expect(new TextDecoder().decode(await blobs.get('videos/abc/captions.en.vtt'))).toBe('WEBVTT\n\nnaïve — 東京')
      expect(await blobs.head('videos/abc/captions.en.vtt')).toEqual({
        size: Buffer.byteLength('WEBVTT\n\nnaïve — 東京'),
      })
    })

    it('overwrites a key', async () => {
      await blobs.put('videos/abc/t.json', 'first, longer body')
      await blobs.put('videos/abc/t.json', 'second')
      expect(new TextDecoder().decode(await blobs.get('videos/abc/t.json'))).toBe('second')
      expect(await blobs.head('videos/abc/t.json')).toEqual({ size: 6 })
    })

    it('gives undefined for a missing key, including a "directory" and a path through a blob', async () => {
      await blobs.put('videos/abc/t.json', '{}')
      expect(await blobs.get('videos/missing/t.json')).toBeUndefined()
      expect(await blobs.head('videos/missing/t.json')).toBeUndefined()
      expect(await blobs.get('videos/abc')).toBeUndefined()
      expect(await blobs.head('videos/abc')).toBeUndefined()
      expect(await blobs.get('videos/abc/t.json/more')).toBeUndefined()
    })

    it('stores an empty blob', async () => {
      await blobs.put('videos/abc/empty', new Uint8Array())
      expect(await blobs.head('videos/abc/empty')).toEqual({ size: 0 })
      expect(await blobs.get('videos/abc/empty')).toEqual(new Uint8Array())
    })

    it('deletes by prefix, counting keys, and leaves other prefixes alone', async () => {
      await blobs.put('videos/abc/captions.en.vtt', 'a')
      await blobs.put('videos/abc/audio/part-0.opus', 'b')
      await blobs.put('videos/abc/audio/part-1.opus', 'c')
      await blobs.put('videos/abcd/captions.en.vtt', 'd')
      await blobs.put('videos/ab', 'e')
      await blobs.put('other/abc/x', 'f')
      expect(await blobs.deleteByPrefix('videos/abc/')).toBe(3)
      expect(await blobs.deleteByPrefix('videos/abc/')).toBe(0)
      expect(await blobs.get('videos/abc/captions.en.vtt')).toBeUndefined()
      expect(await blobs.head('videos/abc/audio/part-1.opus')).toBeUndefined()
      expect(await blobs.head('videos/abcd/captions.en.vtt')).toEqual({ size: 1 })
      expect(await blobs.head('videos/ab')).toEqual({ size: 1 })
      expect(await blobs.head('other/abc/x')).toEqual({ size: 1 })
      // A key can be written again under a prefix that was emptied.
      await blobs.put('videos/abc/captions.en.vtt', 'g')
      expect(await blobs.head('videos/abc/captions.en.vtt')).toEqual({ size: 1 })
    })

    it('deletes by a plain string prefix, like S3', async () => {
      await blobs.put('videos/ab', 'x')
      await blobs.put('videos/abc/x', 'x')
      await blobs.put('videos/b/x', 'x')
      expect(await blobs.deleteByPrefix('videos/ab')).toBe(2)
      expect(await blobs.head('videos/b/x')).toEqual({ size: 1 })
      expect(await blobs.deleteByPrefix('nothing/here/')).toBe(0)
    })

    it.each(HOSTILE_KEYS)('rejects the key %j', async (key) => {
      await expect(blobs.put(key, 'x')).rejects.toThrow(/blob/i)
      await expect(blobs.get(key)).rejects.toThrow(/blob/i)
      await expect(blobs.head(key)).rejects.toThrow(/blob/i)
    })

    it('rejects an empty or escaping prefix', async () => {
      for (const prefix of ['', '/', '../', 'videos/../', '/videos/'])
        await expect(blobs.deleteByPrefix(prefix)).rejects.toThrow(/blob/i)
    })

    it('answers ping', async () => {
      await expect(blobs.ping()).resolves.toBeUndefined()
    })
  })
}
