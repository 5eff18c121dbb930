import { createHash, randomBytes } from 'node:crypto'
import net from 'node:net'
import { HeadBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { blobStoreConformance } from '../conformance.ts'
import { startS3rver, type RunningS3rver, type S3rverRequest } from '../../testing/s3rver.ts'
import { S3BlobStore, type S3BlobStoreOptions } from './index.ts'

const MiB = 1024 * 1024

let s3: RunningS3rver
const clients: S3Client[] = []
const stores: S3BlobStore[] = []
beforeAll(async () => {
  s3 = await startS3rver()
})
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()))
  for (const client of clients) client.destroy()
  await s3?.close()
})

let bucketCount = 0
const freshBucket = () => `ytrag-test-${++bucketCount}`

/** A store on a bucket no test has used; the bucket does not exist until the store makes it. */
const open = (options: Partial<S3BlobStoreOptions> = {}) => {
  const store = new S3BlobStore({
    bucket: freshBucket(),
    endpoint: s3.endpoint,
    credentials: s3.credentials,
    ...options,
  })
  stores.push(store)
  return store
}

const rawClient = () => {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: s3.credentials,
  })
  clients.push(client)
  return client
}

/** A client that notes each command it sends (once, however often the SDK retries it). */
const recordingClient = () => {
  const client = rawClient()
  const sent: { command: string; input: Record<string, unknown> }[] = []
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: context.commandName ?? '', input: args.input as Record<string, unknown> })
      return next(args)
    },
    { step: 'initialize', name: 'recordCommands' },
  )
  return { client, sent }
}

/** What s3rver received for one bucket, as `METHOD /path?query` with the bucket name cut off. */
const received = (bucket: string, since = 0): string[] =>
  s3.requests
    .slice(since)
    .filter((request: S3rverRequest) => request.url.startsWith(`/${bucket}/`) || request.url.startsWith(`/${bucket}?`))
    .map((request) => `${request.method} ${request.url.slice(bucket.length + 1)}`)

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** A port nothing listens on (bound, then released). */
const closedPort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })

blobStoreConformance('S3 (s3rver)', async () => open())

describe('S3BlobStore', () => {
  it('uploads a 20 MiB body as a multipart upload and reads it back byte-exact', async () => {
    const blobs = open()
    const body = randomBytes(20 * MiB)
    await blobs.put('videos/big/audio.bin', body, 'application/octet-stream')

    // What the server saw proves the multipart path: s3rver's ETag for a multipart object is the
    // plain MD5 of the whole body (no "-N" suffix, unlike S3), so the ETag cannot tell.
    const requests = received(blobs.bucket).filter((r) => r.includes('/videos/big/audio.bin'))
    expect(requests.filter((r) => r.startsWith('POST') && r.includes('?uploads'))).toHaveLength(1)
    expect(
      requests
        .filter((r) => r.startsWith('PUT') && /[?&]partNumber=\d/.test(r))
        .map((r) => /partNumber=(\d+)/.exec(r)?.[1])
        .sort(),
    ).toEqual(['1', '2', '3'])
    expect(requests.filter((r) => r.startsWith('POST') && r.includes('?uploadId='))).toHaveLength(1)
    expect(requests.filter((r) => r.includes('x-id=PutObject'))).toHaveLength(0)

    expect(await blobs.head('videos/big/audio.bin')).toEqual({ size: 20 * MiB })
    const read = await blobs.get('videos/big/audio.bin')
    expect(read?.byteLength).toBe(20 * MiB)
    expect(sha256(read!)).toBe(sha256(body))
  })

  it('puts a small body with one PutObject and keeps its content type', async () => {
    const blobs = open()
    await blobs.put('videos/abc/captions.en.vtt', 'WEBVTT\n', 'text/vtt')
    expect(received(blobs.bucket).filter((r) => r.includes('/videos/abc/'))).toEqual([
      'PUT /videos/abc/captions.en.vtt?x-id=PutObject',
    ])
    const head = await rawClient().send(
      new HeadObjectCommand({ Bucket: blobs.bucket, Key: 'videos/abc/captions.en.vtt' }),
    )
    expect(head.ContentType).toBe('text/vtt')
  })

  it('deletes 1,050 keys by prefix: listing pages with a continuation token, DeleteObjects of ≤ 1000 keys', async () => {
    const { client, sent } = recordingClient()
    const blobs = open({ client })
    const keys = Array.from({ length: 1050 }, (_, i) => `videos/many/audio/part-${String(i).padStart(4, '0')}.opus`)
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => blobs.put(key, 'x')))
    await blobs.put('videos/other/captions.en.vtt', 'kept')
    sent.length = 0

    expect(await blobs.deleteByPrefix('videos/many/')).toBe(1050)

    const lists = sent.filter((s) => s.command === 'ListObjectsV2Command').map((s) => s.input.ContinuationToken)
    // Page 1, page 2 by token, then the pass that finds the prefix empty.
    expect(lists).toHaveLength(3)
    expect(lists[0]).toBeUndefined()
    expect(lists[1]).toEqual(expect.any(String))
    expect(lists[2]).toBeUndefined()
    const batches = sent
      .filter((s) => s.command === 'DeleteObjectsCommand')
      .map((s) => (s.input.Delete as { Objects: unknown[] }).Objects.length)
    expect(batches).toEqual([1000, 50])
    expect(await blobs.head(keys[0]!)).toBeUndefined()
    expect(await blobs.head(keys[1049]!)).toBeUndefined()
    expect(await blobs.head('videos/other/captions.en.vtt')).toEqual({ size: 4 })
    expect(await blobs.deleteByPrefix('videos/many/')).toBe(0)
  })

  it('deletes keys that s3rver lists out of key order across a page boundary', async () => {
    // s3rver lists `q/a/…` before `q/a-x` (it walks directories), though `-` sorts before `/`.
    // After page 1 (q/a/0000…0999) its token skips every key below q/a/0999, so q/a-x is only
    // found by listing again from the start.
    const blobs = open()
    const keys = [...Array.from({ length: 1000 }, (_, i) => `videos/q/a/${String(i).padStart(4, '0')}`), 'videos/q/a-x']
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((key) => blobs.put(key, 'x')))
    expect(await blobs.deleteByPrefix('videos/q/')).toBe(1001)
    expect(await blobs.head('videos/q/a-x')).toBeUndefined()
  })

  it('falls back to one DeleteObject a key when the server has no DeleteObjects', async () => {
    const { client, sent } = recordingClient()
    // Stand in for a server without the API: answer DeleteObjects the way S3-compatible servers do.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'DeleteObjectsCommand') {
          throw Object.assign(new Error('A header you provided implies functionality that is not implemented'), {
            name: 'NotImplemented',
            $metadata: { httpStatusCode: 501 },
          })
        }
        return next(args)
      },
      { step: 'initialize', name: 'noDeleteObjects' },
    )
    const blobs = open({ client })
    for (const key of ['videos/abc/a', 'videos/abc/b', 'videos/abc/c/d', 'videos/abd/e']) await blobs.put(key, 'x')
    const since = s3.requests.length
    sent.length = 0

    expect(await blobs.deleteByPrefix('videos/abc/')).toBe(3)
    // Distinct: under load s3rver can answer one of the parallel deletes 500 (it prunes emptied
    // directories as it goes), and the SDK's retry then shows as a second identical request.
    expect([...new Set(received(blobs.bucket, since).filter((r) => r.startsWith('DELETE')))].sort()).toEqual([
      'DELETE /videos/abc/a?x-id=DeleteObject',
      'DELETE /videos/abc/b?x-id=DeleteObject',
      'DELETE /videos/abc/c/d?x-id=DeleteObject',
    ])
    expect(await blobs.head('videos/abd/e')).toEqual({ size: 1 })
    // Learnt once: the next delete does not try DeleteObjects again.
    sent.length = 0
    expect(await blobs.deleteByPrefix('videos/abd/')).toBe(1)
    expect(sent.filter((s) => s.command === 'DeleteObjectsCommand')).toHaveLength(0)
  })

  it('creates the bucket when missing, once, before the first write', async () => {
    const blobs = open()
    const client = rawClient()
    await expect(client.send(new HeadBucketCommand({ Bucket: blobs.bucket }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    })
    const since = s3.requests.length
    await blobs.put('videos/abc/a', 'x')
    await blobs.put('videos/abc/b', 'x')
    await blobs.ensureBucket()
    // One HeadBucket and one CreateBucket for the store's life, not one per write.
    expect(received(blobs.bucket, since).filter((r) => r.endsWith(' /'))).toEqual(['HEAD /', 'PUT /'])
    await expect(client.send(new HeadBucketCommand({ Bucket: blobs.bucket }))).resolves.toBeDefined()
  })

  it('survives two stores creating the same bucket at once', async () => {
    const bucket = freshBucket()
    const [a, b] = [open({ bucket }), open({ bucket })]
    await Promise.all([a.ensureBucket(), b.ensureBucket(), a.put('videos/a/x', 'a'), b.put('videos/b/x', 'b')])
    expect(await a.head('videos/b/x')).toEqual({ size: 1 })
  })

  it('finds nothing in a missing bucket, and reading does not create it', async () => {
    const blobs = open()
    expect(await blobs.get('videos/abc/a')).toBeUndefined()
    expect(await blobs.head('videos/abc/a')).toBeUndefined()
    expect(await blobs.deleteByPrefix('videos/abc/')).toBe(0)
    await expect(rawClient().send(new HeadBucketCommand({ Bucket: blobs.bucket }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    })
  })

  it('ping creates a missing bucket', async () => {
    const blobs = open()
    await blobs.ping()
    await expect(rawClient().send(new HeadBucketCommand({ Bucket: blobs.bucket }))).resolves.toBeDefined()
    await blobs.ping()
  })

  it('ping fails naming S3 and the endpoint when nothing listens there', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`
    const blobs = open({ endpoint })
    const error = await blobs.ping().then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    expect(error?.message).toMatch(/^S3 /)
    expect(error?.message).toContain(endpoint)
    expect(error?.message).toContain(blobs.bucket)
    expect(error?.message).toMatch(/ECONNREFUSED/)
  })

  it('names the operation, bucket, key and endpoint in an error', async () => {
    const blobs = open({ credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'x' } })
    await expect(blobs.get('videos/abc/captions.en.vtt')).rejects.toThrow(
      new RegExp(
        `^S3 GetObject of key "videos/abc/captions\\.en\\.vtt" in bucket "${blobs.bucket}" at ${s3.endpoint} failed: InvalidAccessKeyId`,
      ),
    )
  })

  it('refuses a part size S3 would refuse', () => {
    expect(() => new S3BlobStore({ bucket: 'b', partSizeBytes: MiB })).toThrow(/partSizeBytes/)
  })
})
