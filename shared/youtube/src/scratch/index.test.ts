import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { scratchDir, sweepAbandonedScratchDirs } from './index.ts'

describe('scratch folders', () => {
  const parent = mkdtempSync(join(tmpdir(), 'ytrag-scratch-test-'))
  afterAll(() => rmSync(parent, { recursive: true, force: true }))

  it('names a folder after its purpose and this process', async () => {
    const dir = await scratchDir('audio', parent)
    expect(basename(dir)).toMatch(new RegExp(`^ytrag-audio-${process.pid}-\\w{6}$`))
    expect(existsSync(dir)).toBe(true)
  })

  it('sweeps the folders of a process that died, and keeps those of live ones and anything else', async () => {
    const dead = spawnSync('true').pid
    const abandoned = join(parent, `ytrag-captions-${dead}-abc123`)
    mkdirSync(abandoned)
    writeFileSync(join(abandoned, 'audio.webm'), 'half a download')
    const mine = await scratchDir('captions', parent)
    const other = join(parent, 'ytrag-e2e-keepme')
    mkdirSync(other)
    expect(await sweepAbandonedScratchDirs(parent)).toBe(1)
    expect(existsSync(abandoned)).toBe(false)
    expect(existsSync(mine)).toBe(true)
    expect(existsSync(other)).toBe(true)
  })
})
