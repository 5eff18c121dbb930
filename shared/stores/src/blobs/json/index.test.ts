import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { segmentTranscriptionSchema, type StoredTranscript } from '@ytrag/domain'
import { afterAll, describe, expect, it } from 'vitest'
import { blobKeys } from '../keys/index.ts'
import { DirectoryBlobStore } from '../directory/index.ts'
import { CorruptBlobError, decodeJsonBlob, transcriptBlob } from './index.ts'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ytrag-blob-json-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const blobs = new DirectoryBlobStore({ dir })

const transcript: StoredTranscript = {
  videoId: 'abc',
  source: 'captions',
  language: 'en',
  segments: [{ start: 0, end: 1.5, text: 'Hello there.' }],
}

describe('transcriptBlob', () => {
  it('writes the transcript at its video’s key and reads the same back', async () => {
    const key = await transcriptBlob.write(blobs, transcript)
    expect(key).toBe(blobKeys.transcript('abc'))
    expect(await transcriptBlob.read(blobs, key)).toEqual(transcript)
  })

  it('reads undefined for a transcript not written', async () => {
    expect(await transcriptBlob.read(blobs, blobKeys.transcript('none'))).toBeUndefined()
  })

  it('refuses to read a blob that is not a transcript, naming the blob and the field', async () => {
    const key = blobKeys.transcript('bad')
    await blobs.put(key, JSON.stringify({ ...transcript, segments: [{ start: 'soon', end: 1, text: 'x' }] }))
    const read = transcriptBlob.read(blobs, key)
    await expect(read).rejects.toBeInstanceOf(CorruptBlobError)
    await expect(read).rejects.toThrow(/videos\/bad\/transcript\.json .* at segments\.0\.start/)
  })

  it('refuses to write a transcript of the wrong shape, and writes nothing', async () => {
    const broken = { ...transcript, videoId: 'nan', segments: [{ start: Number.NaN, end: 1, text: 'x' }] }
    await expect(transcriptBlob.write(blobs, broken)).rejects.toThrow(/segments/)
    expect(await blobs.head(blobKeys.transcript('nan'))).toBeUndefined()
  })
})

describe('decodeJsonBlob', () => {
  const key = 'videos/abc/audio/segment-0.json'
  const bytes = (text: string) => new TextEncoder().encode(text)

  it('decodes what the schema takes, dropping fields it does not know', () => {
    const part = { index: 0, startSeconds: 0, model: 'whisper-1', segments: [], extra: true }
    expect(decodeJsonBlob(bytes(JSON.stringify(part)), key, segmentTranscriptionSchema)).toEqual({
      index: 0,
      startSeconds: 0,
      model: 'whisper-1',
      segments: [],
    })
  })

  it('names the blob when it is not JSON', () => {
    expect(() => decodeJsonBlob(bytes('{"index":'), key, segmentTranscriptionSchema)).toThrow(
      new RegExp(`blob ${key} is not valid JSON`),
    )
  })
})
