// Runs against a real server: FerretDB from vitest.global-setup/ferretdb.ts (inject('mongodbUrl')),
// or whatever MONGODB_URL names. Every store gets a database of its own, dropped at the end.
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
// For the `mongodbUrl` key of vitest's ProvidedContext, declared where it is provided.
import type {} from '../../../../../vitest.global-setup/ferretdb.ts'
import { documentStoreConformance } from '../conformance.ts'
import type { ChannelDefaults, DocumentStore } from '../../ports.ts'
import { SqliteDocumentStore } from '../sqlite/index.ts'
import { MONGO_DOCUMENT_INDEXES, MongoDocumentStore, type MongoDocumentStoreOptions } from './index.ts'

const CHANNEL_DEFAULTS: ChannelDefaults = { languages: [], speechToText: false, backfill: 5, intervalSeconds: 3600 }

const mongodbUrl = (): string => {
  const url = inject('mongodbUrl') || process.env.MONGODB_URL
  if (!url) {
    throw new Error(
      'No MongoDB server for the MongoDB adapter tests: add vitest.global-setup/ferretdb.ts to globalSetup, ' +
        'or run `bash scripts/services/ferretdb.sh start` and set MONGODB_URL=mongodb://127.0.0.1:27117/',
    )
  }
  return url
}

let admin: MongoClient
const databases: string[] = []

beforeAll(async () => {
  const url = mongodbUrl()
  admin = new MongoClient(url, { serverSelectionTimeoutMS: 5000 })
  try {
    await admin.db('admin').command({ ping: 1 })
  } catch (error) {
    throw new Error(
      `Cannot reach the MongoDB server at ${url} (FerretDB: \`bash scripts/services/ferretdb.sh status\`, ` +
        `log in /tmp/ytrag-ferretdb/ferretdb.log): ${(error as Error).message}`,
      { cause: error },
    )
  }
})

afterAll(async () => {
  if (!admin) return
  for (const database of databases) await admin.db(database).dropDatabase()
  await admin.close()
})

/** A fresh, empty database name (FerretDB on PostgreSQL maps it to a schema: ≤ 63 characters). */
const freshDatabase = () => {
  const database = `test_${randomUUID().replaceAll('-', '')}`
  databases.push(database)
  return database
}

type Extra = Omit<MongoDocumentStoreOptions, 'url' | 'client' | 'clientOptions' | 'database'>

const openIn = (database: string, extra: Extra = {}) =>
  MongoDocumentStore.connect({
    url: mongodbUrl(),
    database,
    clientOptions: { serverSelectionTimeoutMS: 5000 },
    ...extra,
  })

const open = (extra: Extra = {}) => openIn(freshDatabase(), extra)

documentStoreConformance('MongoDB (FerretDB)', (options) => open(options))

describe('MongoDocumentStore', () => {
  it('creates its indexes at init, and initialising again (another process starting) is fine', async () => {
    const database = freshDatabase()
    const store = await openIn(database)
    await store.init()
    const second = await openIn(database)
    for (const [collection, expected] of Object.entries(MONGO_DOCUMENT_INDEXES)) {
      const indexes = await admin.db(database).collection(collection).listIndexes().toArray()
      for (const { name, key, ...rest } of expected) {
        const found = indexes.find((index) => index.name === name)
        expect(found, `${collection}.${name}`).toMatchObject({ key })
        expect(found?.unique === true).toBe('unique' in rest && rest.unique)
      }
    }
    // The unique index itself turns a second video with the same id away.
    await second.insertVideo({ videoId: 'a', url: 'u' })
    await expect(admin.db(database).collection('videos').insertOne({ videoId: 'a' })).rejects.toMatchObject({
      code: 11000,
    })
    await Promise.all([store.close(), second.close()])
  })

  it('creates a video once from 10 concurrent inserts, across two clients', async () => {
    const database = freshDatabase()
    const stores = [await openIn(database), await openIn(database)]
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stores[i % 2]!.insertVideo({ videoId: 'a', url: 'u', title: `attempt ${i}` }),
      ),
    )
    expect(results.filter((result) => result.created)).toHaveLength(1)
    const winner = results.find((result) => result.created)!.video
    for (const { video } of results) expect(video).toEqual(winner)
    expect(await admin.db(database).collection('videos').countDocuments({ videoId: 'a' })).toBe(1)
    await Promise.all(stores.map((store) => store.close()))
  })

  it('keeps every stage and field when stages of one video are updated at once, across two clients', async () => {
    const database = freshDatabase()
    const stores = [await openIn(database), await openIn(database)]
    const [one, two] = stores as [MongoDocumentStore, MongoDocumentStore]
    // Several rounds: a lost update is a race, and one round may not hit it.
    for (let round = 0; round < 5; round++) {
      const videoId = `v${round}`
      await one.insertVideo({ videoId, url: 'u' })
      await Promise.all([
        one.updateVideo(videoId, 'download', 'done', { title: 'T', durationSeconds: 12 }),
        two.updateVideo(videoId, 'transcribe', 'failed', { error: 'no captions', language: 'en' }),
        one.updateVideo(videoId, 'index', 'running', { chunkCount: 7 }),
        two.updateVideo(videoId, 'index', 'running', { channelId: 'UC1' }),
      ])
      const video = await two.getVideo(videoId)
      expect(video).toMatchObject({ title: 'T', durationSeconds: 12, language: 'en', chunkCount: 7, channelId: 'UC1' })
      expect(video?.error).toBe('no captions')
      expect(video?.stages).toMatchObject({
        download: { status: 'done' },
        transcribe: { status: 'failed', error: 'no captions' },
        index: { status: 'running' },
      })
    }
    await Promise.all(stores.map((store) => store.close()))
  })

  it('keeps discovery and a failure written to one job at once', async () => {
    const database = freshDatabase()
    const store = await openIn(database)
    for (let round = 0; round < 5; round++) {
      const jobId = `j${round}`
      await store.createJob({ jobId, url: 'u' })
      await Promise.all([
        store.markJobDiscovered(jobId),
        store.failJob(jobId, 'boom'),
        store.addJobVideos(jobId, ['a']),
      ])
      const job = await store.getJob(jobId)
      expect(job).toMatchObject({ status: 'failed', errors: [{ message: 'boom' }], videos: { total: 1 } })
      // Discovery landed too, though the failure hides it from the status.
      expect((await admin.db(database).collection('jobs').findOne({ jobId }))?.discovered).toBe(true)
    }
    await store.close()
  })

  it('gives each due channel to one caller and each host slot to one caller, across two clients', async () => {
    const database = freshDatabase()
    const stores = [await openIn(database), await openIn(database)]
    const now = new Date('2030-01-01T00:00:00.000Z')
    const ids = Array.from({ length: 8 }, (_, i) => `UC${i}`)
    for (const channelId of ids) {
      await stores[0]!.upsertChannel({
        channelId,
        url: 'u',
        listUrl: 'l',
        intervalSeconds: 60,
        defaults: CHANNEL_DEFAULTS,
        nextSyncAt: now.toISOString(),
      })
    }
    const claims = await Promise.all(
      Array.from({ length: 6 }, (_, i) => stores[i % 2]!.claimDueChannels(now, new Date(now.getTime() + 600_000), 2)),
    )
    expect(
      claims
        .flat()
        .map((channel) => channel.channelId)
        .sort(),
    ).toEqual(ids)

    const slots = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        stores[i % 2]!.reserveHostRequest('www.youtube.com', { now, spacingMs: 1000 }),
      ),
    )
    expect(slots.map((slot) => Date.parse(slot.at) - now.getTime()).sort((a, b) => a - b)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((s) => s * 1000),
    )

    await Promise.all(
      [3, 9, 5, 7].map((minutes, i) =>
        stores[i % 2]!.backOffHost('www.youtube.com', new Date(now.getTime() + minutes * 60_000), `${minutes} min`),
      ),
    )
    expect(await stores[1]!.reserveHostRequest('www.youtube.com', { now, spacingMs: 1000 })).toMatchObject({
      backoffReason: '9 min',
    })
    await Promise.all(stores.map((store) => store.close()))
  })

  it('breaks the lock of a writer that died, and gives up on a live one after lockTimeoutMs', async () => {
    const database = freshDatabase()
    const store = await openIn(database, { lockWrites: true, lockTimeoutMs: 300 })
    await store.insertVideo({ videoId: 'a', url: 'u' })
    const locks = admin.db(database).collection<{ _id: string; key: string; expiresAt: Date }>('locks')
    await locks.insertOne({ _id: 'crashed', key: 'videos:a', expiresAt: new Date(Date.now() - 1000) })
    expect((await store.updateVideo('a', 'download', 'done'))?.stages.download.status).toBe('done')
    expect(await locks.countDocuments({})).toBe(0)

    await locks.insertOne({ _id: 'busy', key: 'videos:a', expiresAt: new Date(Date.now() + 60_000) })
    await expect(store.updateVideo('a', 'download', 'failed')).rejects.toThrow(/lock on videos:a/)
    expect((await store.getVideo('a'))?.stages.download.status).toBe('done')
    await store.close()
  })

  it('fails ping with an error naming MongoDB when the server cannot be reached', async () => {
    const store = new MongoDocumentStore({
      url: 'mongodb://127.0.0.1:1/',
      database: 'x',
      clientOptions: { serverSelectionTimeoutMS: 300 },
    })
    await expect(store.ping()).rejects.toThrow(/MongoDB \(127\.0\.0\.1:1, database x\) did not answer ping/)
    await store.close()
    await expect(
      MongoDocumentStore.connect({
        url: 'mongodb://127.0.0.1:1/',
        database: 'x',
        clientOptions: { serverSelectionTimeoutMS: 300 },
      }),
    ).rejects.toThrow(/127\.0\.0\.1:1/)
  })

  it('refuses to be used once closed, and closing twice is fine', async () => {
    const store = await open()
    await store.ping()
    await store.close()
    await store.close()
    await expect(store.ping()).rejects.toThrow(/MongoDB .* is closed/)
    await expect(store.getVideo('a')).rejects.toThrow(/is closed/)
  })

  it('leaves a client it was given open', async () => {
    const client = new MongoClient(mongodbUrl(), { serverSelectionTimeoutMS: 5000 })
    const store = await MongoDocumentStore.connect({ client, database: freshDatabase() })
    await store.insertVideo({ videoId: 'a', url: 'u' })
    await store.close()
    await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 })
    await client.close()
  })

  it('reports failed videos in the order they were linked, even within one millisecond', async () => {
    const store = await open({ now: () => new Date('2030-01-01T00:00:00.000Z') })
    await store.createJob({ jobId: 'j1', url: 'u' })
    await store.addJobVideos('j1', ['c', 'a'])
    await store.addJobVideos('j1', ['b'])
    for (const videoId of ['a', 'b', 'c']) {
      await store.insertVideo({ videoId, url: 'u' })
      await store.updateVideo(videoId, 'download', 'failed', { error: `no ${videoId}` })
    }
    expect((await store.getJob('j1'))?.errors.map((error) => error.videoId)).toEqual(['c', 'a', 'b'])
    await store.close()
  })

  it('rejects an unknown stage, a bad limit and an id that is not a string', async () => {
    const store = await open()
    await store.insertVideo({ videoId: 'a', url: 'u' })
    await expect(store.updateVideo('a', 'x.y' as never, 'done')).rejects.toThrow(RangeError)
    await expect(store.listVideos({ limit: 0 })).rejects.toThrow(RangeError)
    // An operator object as an id would match other documents.
    await expect(store.getVideo({ $gt: '' } as never)).rejects.toThrow(TypeError)
    await expect(store.deleteVideo({ $ne: 'x' } as never)).rejects.toThrow(TypeError)
    expect(await store.getVideo('a')).toBeDefined()
    await store.close()
  })

  it('returns exactly what the SQLite store returns for the same channel and host writes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ytrag-mongo-parity-'))
    const clock = () => {
      let tick = 0
      return () => new Date(Date.UTC(2030, 0, 1, 0, 0, 0, tick++))
    }
    const sqlite = new SqliteDocumentStore({ path: path.join(dir, 'documents.sqlite'), now: clock() })
    const mongo = await open({ now: clock() })
    const run = async (store: DocumentStore) => {
      const out: unknown[] = []
      const due = '2030-01-01T00:00:00.000Z'
      out.push(
        await store.upsertChannel({
          channelId: 'UCa',
          url: 'ua',
          listUrl: 'la',
          intervalSeconds: 3600,
          defaults: CHANNEL_DEFAULTS,
          nextSyncAt: due,
        }),
      )
      out.push(
        await store.upsertChannel({
          channelId: 'UCb',
          url: 'ub',
          listUrl: 'lb',
          title: 'B',
          languages: ['en'],
          speechToText: true,
          backfill: 'all',
          intervalSeconds: 60,
          defaults: CHANNEL_DEFAULTS,
          nextSyncAt: due,
        }),
      )
      out.push(
        await store.upsertChannel({
          channelId: 'UCa',
          url: 'ua2',
          listUrl: 'la',
          backfill: 0,
          intervalSeconds: 3600,
          defaults: CHANNEL_DEFAULTS,
          nextSyncAt: due,
        }),
      )
      out.push(
        await store.upsertChannel({
          channelId: 'UCa',
          url: 'ua2',
          listUrl: 'la',
          defaults: CHANNEL_DEFAULTS,
          nextSyncAt: due,
        }),
      )
      out.push(await store.claimDueChannels(new Date(due), new Date('2030-01-01T00:10:00.000Z'), 5))
      out.push(
        await store.recordChannelSync('UCa', {
          outcome: 'failed',
          at: '2030-01-01T00:01:00.000Z',
          nextSyncAt: '2030-01-01T02:00:00.000Z',
          error: 'boom',
        }),
      )
      out.push(
        await store.recordChannelSync('UCb', {
          outcome: 'ok',
          at: '2030-01-01T00:01:00.000Z',
          nextSyncAt: '2030-01-01T01:00:00.000Z',
          videosFound: 2,
        }),
      )
      out.push(
        await store.recordChannelSync('UCb', {
          outcome: 'rate-limited',
          at: '2030-01-01T00:02:00.000Z',
          nextSyncAt: '2030-01-01T03:00:00.000Z',
        }),
      )
      out.push(await store.recordChannelSync('missing', { outcome: 'ok', at: due, nextSyncAt: due }))
      out.push(await store.listChannels())
      out.push(await store.deleteChannel('UCa'))
      out.push(await store.getChannel('UCa'))
      out.push(await store.reserveHostRequest('h', { now: new Date(due), spacingMs: 500 }))
      out.push(await store.reserveHostRequest('h', { now: new Date(due), spacingMs: 500 }))
      await store.backOffHost('h', new Date('2030-01-01T00:05:00.000Z'), 'HTTP 429')
      out.push(await store.reserveHostRequest('h', { now: new Date(due), spacingMs: 500 }))
      out.push(await store.insertVideo({ videoId: 'v', url: 'uv' }))
      out.push(await store.updateVideo('v', 'index', 'done', { availability: 'removed' }))
      await store.resetVideo('v')
      out.push(await store.getVideo('v'))
      out.push(await store.updateVideo('v', 'index', 'done', { availability: null }))
      return out
    }
    const expected = await run(sqlite)
    expect(await run(mongo)).toStrictEqual(expected)
    await Promise.all([sqlite.close(), mongo.close()])
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('returns exactly what the SQLite store returns for the same writes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ytrag-mongo-parity-'))
    // One clock per store, ticking alike, so timestamps match too.
    const clock = () => {
      let tick = 0
      return () => new Date(Date.UTC(2030, 0, 1, 0, 0, 0, tick++))
    }
    const sqlite = new SqliteDocumentStore({ path: path.join(dir, 'documents.sqlite'), now: clock() })
    const mongo = await open({ now: clock() })
    const run = async (store: DocumentStore) => {
      const out: unknown[] = []
      out.push(await store.createJob({ jobId: 'j1', url: 'https://www.youtube.com/playlist?list=PL1', language: 'en' }))
      out.push(
        await store.insertVideo({
          videoId: 'a',
          url: 'ua',
          playlistItem: 1,
          channelId: 'UC1',
          channel: 'C',
          durationSeconds: 61.5,
        }),
      )
      out.push(
        await store.insertVideo({ videoId: 'b', url: 'ub', title: 'B', publishedAt: '2024-01-01T00:00:00.000Z' }),
      )
      out.push(await store.insertVideo({ videoId: 'a', url: 'other' }))
      await store.addJobVideos('j1', ['a', 'b', 'missing'])
      await store.markJobDiscovered('j1')
      out.push(await store.updateVideo('a', 'download', 'done', { language: 'en' }))
      out.push(
        await store.updateVideo('a', 'transcribe', 'done', {
          transcript: {
            source: 'speech-to-text',
            language: 'en',
            model: 'small',
            blobKey: 'videos/a/t.json',
            segmentCount: 3,
          },
        }),
      )
      out.push(await store.updateVideo('a', 'index', 'done', { chunkCount: 4, error: null }))
      out.push(await store.updateVideo('b', 'download', 'failed', { error: 'HTTP 403' }))
      out.push(await store.updateVideo('missing', 'download', 'done'))
      out.push(await store.getJob('j1'))
      out.push(await store.listVideos({ limit: 1 }))
      out.push(await store.listVideos({ limit: 5, channelId: 'UC1' }))
      await store.resetVideo('b')
      out.push(await store.getVideo('b'))
      out.push(await store.deleteVideo('a'))
      out.push(await store.getJob('j1'))
      return out
    }
    const expected = await run(sqlite)
    // Strict: the same shapes too (no _id, no null or undefined standing in for an absent field).
    expect(await run(mongo)).toStrictEqual(expected)
    await Promise.all([sqlite.close(), mongo.close()])
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
