// Runs against a real server, like index.test.ts: FerretDB from vitest.global-setup/ferretdb.ts,
// or whatever MONGODB_URL names.
import { randomUUID } from 'node:crypto'
import { type Db, MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
// For the `mongodbUrl` key of vitest's ProvidedContext, declared where it is provided.
import type {} from '../../../../../vitest.global-setup/ferretdb.ts'
import { MongoDialect } from './dialect.ts'

let client: MongoClient
let db: Db

beforeAll(async () => {
  const url = inject('mongodbUrl') || process.env.MONGODB_URL
  if (!url) throw new Error('No MongoDB server: run `bash scripts/services/ferretdb.sh start` and set MONGODB_URL')
  client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 })
  db = client.db(`test_${randomUUID().replaceAll('-', '')}`)
})

afterAll(async () => {
  await db?.dropDatabase()
  await client?.close()
})

describe('MongoDialect', () => {
  it('names the server and takes write locks on FerretDB only, unless told', async () => {
    const info = await db.admin().command({ buildInfo: 1 })
    const auto = await MongoDialect.read(db, 'auto')
    if (info.ferretdbVersion === undefined) {
      expect(auto.server).toBe(`MongoDB ${info.version}`)
      expect(auto.lockWrites).toBe(false)
    } else {
      expect(auto.server).toBe(`FerretDB ${info.ferretdbVersion}`)
      expect(auto.lockWrites).toBe(true)
    }
    expect((await MongoDialect.read(db, true)).lockWrites).toBe(true)
    expect((await MongoDialect.read(db, false)).lockWrites).toBe(false)
  })

  it('creates indexes again without error, and updates a document returning it as it is after', async () => {
    const dialect = await MongoDialect.read(db, 'auto')
    const things = db.collection<{ name: string; count: number }>('things')
    const indexes = [
      { key: { name: 1 }, name: 'name_unique', unique: true },
      { key: { count: 1 }, name: 'count' },
    ]
    await dialect.createIndexes(things, indexes)
    await dialect.createIndexes(things, indexes)
    expect((await things.listIndexes().toArray()).map((index) => index.name).sort()).toEqual([
      '_id_',
      'count',
      'name_unique',
    ])
    await things.insertOne({ name: 'a', count: 1 })
    expect(await dialect.findOneAndUpdate(things, { name: 'a' }, { $inc: { count: 2 } })).toMatchObject({
      name: 'a',
      count: 3,
    })
    expect(await dialect.findOneAndUpdate(things, { name: 'b' }, { $inc: { count: 1 } })).toBeNull()
  })
})
