import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { blobStoreConformance } from '../conformance/blobs.ts'
import { DirectoryBlobStore } from './index.ts'

const dirs: string[] = []
const freshDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ytrag-blobs-'))
  dirs.push(dir)
  return path.join(dir, 'blobs')
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

blobStoreConformance('DirectoryBlobStore', async () => new DirectoryBlobStore({ dir: freshDir() }))

describe('DirectoryBlobStore', () => {
  it('keeps a key as the file of the same relative path, with no temporary file left', async () => {
    const dir = freshDir()
    const blobs = new DirectoryBlobStore({ dir })
    await Promise.all(Array.from({ length: 20 }, (_, i) => blobs.put('videos/abc/t.json', `body ${i}`)))
    expect(fs.readdirSync(path.join(dir, 'videos', 'abc'))).toEqual(['t.json'])
    expect(fs.readFileSync(path.join(dir, 'videos', 'abc', 't.json'), 'utf8')).toMatch(/^body \d+$/)
  })

  it('never counts or removes a temporary file of a write in flight', async () => {
    const dir = freshDir()
    const blobs = new DirectoryBlobStore({ dir })
    await blobs.put('videos/abc/t.json', '{}')
    fs.writeFileSync(path.join(dir, 'videos', 'abc', '.t.json.123.tmp'), 'partial')
    expect(await blobs.deleteByPrefix('videos/abc/')).toBe(1)
    expect(fs.existsSync(path.join(dir, 'videos', 'abc', '.t.json.123.tmp'))).toBe(true)
  })

  it('removes the emptied directory', async () => {
    const dir = freshDir()
    const blobs = new DirectoryBlobStore({ dir })
    await blobs.put('videos/abc/audio/0.opus', 'x')
    await blobs.deleteByPrefix('videos/abc/')
    expect(fs.existsSync(path.join(dir, 'videos', 'abc'))).toBe(false)
    expect(fs.existsSync(path.join(dir, 'videos'))).toBe(true)
  })

  it('fails ping when the directory is not writable', async () => {
    const dir = freshDir()
    const blobs = new DirectoryBlobStore({ dir })
    fs.chmodSync(dir, 0o500)
    try {
      // root ignores permissions, so only assert where they apply.
      if (process.getuid?.() !== 0) await expect(blobs.ping()).rejects.toThrow()
    } finally {
      fs.chmodSync(dir, 0o700)
    }
  })
})
