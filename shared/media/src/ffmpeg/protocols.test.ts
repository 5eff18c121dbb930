// A downloaded "media file" may be a playlist naming URLs (a hostile site's HLS in an .mp4):
// the server's own ffmpeg opens local files only, so those URLs are never fetched. (ffmpeg's HLS
// demuxer refuses http segments of a local playlist by itself; -protocol_whitelist makes it a rule
// for every demuxer, so this test guards the outcome, not which of the two gave it.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { FfmpegError, runFfmpeg } from './index.ts'

it('does not fetch the URLs of a playlist disguised as a media file', async () => {
  let reached = 0
  const listener = createServer((_req, res) => {
    reached += 1
    res.end()
  })
  listener.on('connection', () => (reached += 1))
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-ffmpeg-protocols-'))
  try {
    const { port } = listener.address() as AddressInfo
    const file = join(dir, 'audio.mp4')
    writeFileSync(
      file,
      `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:${port}/segment.ts\n#EXT-X-ENDLIST\n`,
    )
    await expect(runFfmpeg(['-i', file, '-f', 'null', '-'])).rejects.toThrow(FfmpegError)
    expect(reached).toBe(0)
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await new Promise<void>((resolve) => listener.close(() => resolve()))
  }
})
