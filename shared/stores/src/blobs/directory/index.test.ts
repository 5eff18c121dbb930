import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { blobStoreConformance } from '../conformance.ts'
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

  it('never counts a temporary file as a blob; deleting its key removes it too, and leaves other dot files', async () => {
    const dir = freshDir()
    const blobs = new DirectoryBlobStore({ dir })
    await blobs.put('videos/abc/t.json', '{}')
    const inFlight = path.join(dir, 'videos', 'abc', `.t.json.${process.pid}.${randomUUID()}.tmp`)
    fs.writeFileSync(inFlight, 'partial')
    fs.writeFileSync(path.join(dir, 'videos', 'abc', '.keep'), '')
    expect(await blobs.deleteByPrefix('videos/abc/')).toBe(1)
    expect(fs.existsSync(inFlight)).toBe(false)
    expect(fs.readdirSync(path.join(dir, 'videos', 'abc'))).toEqual(['.keep'])
  })

  it('removes at open the temporary files of a writer that died mid-write (kill -9), never a live one', async () => {
    const dir = freshDir()
    await new DirectoryBlobStore({ dir }).put('videos/abc/t.json', '{}')
    const dead = spawnSync('true').pid
    const abandoned = path.join(dir, 'videos', 'abc', `.t.json.${dead}.${randomUUID()}.tmp`)
    const live = path.join(dir, 'videos', 'abc', `.captions.en.vtt.${process.pid}.${randomUUID()}.tmp`)
    fs.writeFileSync(abandoned, 'half a transcript')
    fs.writeFileSync(live, 'being written')
    const reopened = new DirectoryBlobStore({ dir })
    expect(await reopened.sweptAbandoned()).toBe(1)
    expect(fs.existsSync(abandoned)).toBe(false)
    expect(fs.existsSync(live)).toBe(true)
    expect(await reopened.get('videos/abc/t.json')).toEqual(new TextEncoder().encode('{}'))
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
