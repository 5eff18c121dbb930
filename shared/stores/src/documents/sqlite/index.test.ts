import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { documentStoreConformance } from '../conformance.ts'
import type { ChannelDefaults } from '../../ports.ts'
import { SqliteDocumentStore } from './index.ts'

const CHANNEL_DEFAULTS: ChannelDefaults = { languages: [], speechToText: false, backfill: 5, intervalSeconds: 3600 }

const dirs: string[] = []
const freshFile = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ytrag-documents-'))
  dirs.push(dir)
  // A nested path: the store creates its parent directory.
  return path.join(dir, 'state', 'documents.sqlite')
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

documentStoreConformance(
  'SqliteDocumentStore',
  async (options) => new SqliteDocumentStore({ path: freshFile(), ...options }),
)

describe('SqliteDocumentStore', () => {
  it('migrates a file made by the first schema: its videos stay, and gain the audio column', async () => {
    const file = freshFile()
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const old = new DatabaseSync(file)
    // Version 1 as it shipped: videos without the audio column.
    old.exec(`CREATE TABLE videos (video_id TEXT PRIMARY KEY, url TEXT NOT NULL, playlist_item INTEGER, title TEXT NOT NULL DEFAULT '',
      channel_id TEXT, channel TEXT, published_at TEXT, duration_seconds REAL, language TEXT, status TEXT NOT NULL, stages TEXT NOT NULL,
      transcript TEXT, chunk_count INTEGER NOT NULL DEFAULT 0, error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT;
      PRAGMA user_version = 1;`)
    const stages = JSON.stringify({
      download: { status: 'done', updatedAt: 't' },
      transcribe: { status: 'pending', updatedAt: 't' },
      index: { status: 'pending', updatedAt: 't' },
    })
    old
      .prepare(
        `INSERT INTO videos (video_id, url, status, stages, created_at, updated_at) VALUES ('old', 'u', 'queued', ?, 't', 't')`,
      )
      .run(stages)
    old.close()

    const store = new SqliteDocumentStore({ path: file })
    expect((await store.getVideo('old'))?.stages.download.status).toBe('done')
    await store.updateVideo('old', 'transcribe', 'running', {
      audio: { segmentCount: 2, seconds: 60, segmentsDone: [], secondsDone: 0 },
    })
    expect((await store.recordTranscribedSegment('old', { index: 1, seconds: 30 }))?.audio?.segmentsDone).toEqual([1])
    await store.close()
    const reopened = new DatabaseSync(file)
    expect(reopened.prepare('PRAGMA user_version').get()).toEqual({ user_version: 6 })
    reopened.close()
  })

  it('migrates a file made by schema version 2: its jobs and videos stay, and it gains availability, channels and hosts', async () => {
    const file = freshFile()
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const old = new DatabaseSync(file)
    // Version 2 as it shipped: videos with audio but no availability, and no channels or hosts.
    old.exec(`CREATE TABLE jobs (job_id TEXT PRIMARY KEY, url TEXT NOT NULL, language TEXT, force INTEGER NOT NULL DEFAULT 0,
        discovered INTEGER NOT NULL DEFAULT 0, error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT;
      CREATE TABLE job_videos (job_id TEXT NOT NULL, video_id TEXT NOT NULL, PRIMARY KEY (job_id, video_id)) STRICT;
      CREATE INDEX job_videos_by_video ON job_videos (video_id);
      CREATE TABLE videos (video_id TEXT PRIMARY KEY, url TEXT NOT NULL, playlist_item INTEGER, title TEXT NOT NULL DEFAULT '',
        channel_id TEXT, channel TEXT, published_at TEXT, duration_seconds REAL, language TEXT, status TEXT NOT NULL, stages TEXT NOT NULL,
        transcript TEXT, audio TEXT, chunk_count INTEGER NOT NULL DEFAULT 0, error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL) STRICT;
      CREATE INDEX videos_by_created ON videos (created_at DESC, video_id);
      CREATE INDEX videos_by_channel ON videos (channel_id, created_at DESC, video_id);
      PRAGMA user_version = 2;`)
    const stages = JSON.stringify({
      download: { status: 'done', updatedAt: 't' },
      transcribe: { status: 'done', updatedAt: 't' },
      index: { status: 'done', updatedAt: 't' },
    })
    old
      .prepare(`INSERT INTO jobs (job_id, url, discovered, created_at, updated_at) VALUES ('j1', 'u', 1, 't', 't')`)
      .run()
    old.prepare(`INSERT INTO job_videos (job_id, video_id) VALUES ('j1', 'old')`).run()
    old
      .prepare(
        `INSERT INTO videos (video_id, url, channel_id, status, stages, chunk_count, created_at, updated_at) VALUES ('old', 'u', 'UC1', 'indexed', ?, 3, 't', 't')`,
      )
      .run(stages)
    old.close()

    const store = new SqliteDocumentStore({ path: file })
    expect(await store.getJob('j1')).toMatchObject({ status: 'succeeded', videos: { total: 1, indexed: 1 } })
    const video = await store.getVideo('old')
    // Version 4's, 5's and 6's columns start at their defaults: generation 0, no handoff, no re-drives, no live
    // status, skip, chapters or media URL.
    expect(video).toMatchObject({ status: 'indexed', chunkCount: 3, channelId: 'UC1', generation: 0, redrives: 0 })
    expect(video?.availability).toBeUndefined()
    expect(video?.handoff).toBeUndefined()
    expect(video && ['liveStatus', 'skipReason', 'chapters', 'mediaUrl'].filter((field) => field in video)).toEqual([])
    const chapters = [{ title: 'Intro', start: 0, end: 12.5 }]
    const mediaUrl = 'https://talks.example/media/old.mp4'
    expect(
      await store.updateVideo('old', 'index', 'done', { chapters, liveStatus: 'was_live', mediaUrl }),
    ).toMatchObject({ chapters, liveStatus: 'was_live', mediaUrl })
    expect((await store.resetVideo('old'))?.generation).toBe(1)
    expect((await store.updateVideo('old', 'index', 'done', { availability: 'private' }))?.availability).toBe('private')
    expect(
      (
        await store.upsertChannel({
          channelId: 'UC1',
          url: 'u',
          listUrl: 'l',
          intervalSeconds: 60,
          defaults: CHANNEL_DEFAULTS,
          nextSyncAt: '2030-01-01T00:00:00.000Z',
        })
      ).created,
    ).toBe(true)
    expect(
      await store.claimDueChannels(new Date('2030-01-01T00:00:00.000Z'), new Date('2030-01-01T00:10:00.000Z'), 5),
    ).toHaveLength(1)
    expect(await store.reserveHostRequest('www.youtube.com', { now: new Date(0), spacingMs: 1000 })).toEqual({
      at: new Date(0).toISOString(),
    })
    await store.close()
    const reopened = new DatabaseSync(file)
    expect(reopened.prepare('PRAGMA user_version').get()).toEqual({ user_version: 6 })
    reopened.close()
    // Opening it again (already at version 6) changes nothing.
    const again = new SqliteDocumentStore({ path: file })
    expect(await again.getVideo('old')).toMatchObject({ availability: 'private', generation: 1, status: 'indexed' })
    expect(await again.listChannels()).toHaveLength(1)
    await again.close()
  })

  it('refuses a file from a newer build', async () => {
    const file = freshFile()
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const newer = new DatabaseSync(file)
    newer.exec('PRAGMA user_version = 7')
    newer.close()
    expect(() => new SqliteDocumentStore({ path: file })).toThrow(/schema version 7; this build knows up to 6/)
  })

  it('gives each due channel and each host slot to one of two connections sharing the file', async () => {
    const file = freshFile()
    const one = new SqliteDocumentStore({ path: file })
    const two = new SqliteDocumentStore({ path: file })
    for (let i = 0; i < 6; i++)
      await one.upsertChannel({
        channelId: `UC${i}`,
        url: 'u',
        listUrl: 'l',
        intervalSeconds: 60,
        defaults: CHANNEL_DEFAULTS,
        nextSyncAt: '2030-01-01T00:00:00.000Z',
      })
    const now = new Date('2030-01-01T00:00:00.000Z')
    const lease = new Date('2030-01-01T00:10:00.000Z')
    const claims = await Promise.all([one, two, one, two].map((store) => store.claimDueChannels(now, lease, 2)))
    expect(
      claims
        .flat()
        .map((channel) => channel.channelId)
        .sort(),
    ).toEqual(['UC0', 'UC1', 'UC2', 'UC3', 'UC4', 'UC5'])
    const slots = await Promise.all(
      [one, two, one, two].map((store) => store.reserveHostRequest('h', { now, spacingMs: 250 })),
    )
    expect(slots.map((slot) => Date.parse(slot.at) - now.getTime()).sort((a, b) => a - b)).toEqual([0, 250, 500, 750])
    await Promise.all([one.close(), two.close()])
  })

  it('keeps its state in the file, across reopening', async () => {
    const file = freshFile()
    const first = new SqliteDocumentStore({ path: file })
    await first.createJob({ jobId: 'j1', url: 'u' })
    await first.insertVideo({ videoId: 'a', url: 'u' })
    await first.addJobVideos('j1', ['a'])
    await first.close()
    await first.close()

    const second = new SqliteDocumentStore({ path: file })
    expect((await second.getJob('j1'))?.videos.total).toBe(1)
    expect((await second.getVideo('a'))?.status).toBe('queued')
    await second.close()
  })

  it("sees another connection's writes at once (two processes sharing the file)", async () => {
    const file = freshFile()
    const writer = new SqliteDocumentStore({ path: file })
    const reader = new SqliteDocumentStore({ path: file })
    await writer.insertVideo({ videoId: 'a', url: 'u' })
    await writer.updateVideo('a', 'download', 'done', {})
    expect((await reader.getVideo('a'))?.status).toBe('transcribing')
    await Promise.all([writer.close(), reader.close()])
  })

  it('rejects an unknown stage and a bad limit', async () => {
    const store = new SqliteDocumentStore({ path: freshFile() })
    await store.insertVideo({ videoId: 'a', url: 'u' })
    await expect(store.updateVideo('a', 'x" , "y' as never, 'done')).rejects.toThrow(RangeError)
    await expect(store.listVideos({ limit: 0 })).rejects.toThrow(RangeError)
    await store.close()
  })
})
