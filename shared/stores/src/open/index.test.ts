import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '@ytrag/config'
import { openStores } from './index.ts'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ytrag-embedded-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

// The embedded stores are the configuration's defaults: all three in STORAGE__DIR.
const config = () => loadConfig({ STORAGE__DIR: path.join(dir, 'storage') })

describe('openStores', () => {
  it('opens the embedded stores in one directory by default, and closes them', async () => {
    const stores = await openStores(config())
    expect(stores.providers).toEqual({ documents: 'sqlite', chunks: 'sqlite', blobs: 'directory' })
    await Promise.all([stores.documents.ping(), stores.chunks.ping(), stores.blobs.ping()])
    await stores.documents.createJob({ jobId: 'j1', url: 'u' })
    await stores.chunks.replaceVideoChunks('a', [])
    await stores.blobs.put('videos/a/t.json', '{}')
    await stores.close()
    expect(fs.readdirSync(path.join(dir, 'storage')).filter((name) => !name.includes('-'))).toEqual([
      'blobs',
      'chunks.sqlite',
      'documents.sqlite',
    ])
    expect(fs.existsSync(path.join(dir, 'storage', 'blobs', 'videos', 'a', 't.json'))).toBe(true)
    await expect(stores.documents.ping()).rejects.toThrow()

    const again = await openStores(config())
    expect((await again.documents.getJob('j1'))?.jobId).toBe('j1')
    await again.close()
  })
})
