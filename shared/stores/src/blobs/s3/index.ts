// Blobs as objects in one S3 bucket (production; MinIO, Ceph, s3rver speak the same protocol).
// A key is the object key, unchanged: `videos/abc/captions.en.vtt` is that object. Keys follow
// the same rules as in the directory store, so a key that works locally works here.
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { assertBlobKey, assertBlobPrefix } from '../key-rules/index.ts'
import type { BlobStore } from '../../ports.ts'

const MiB = 1024 * 1024
/** S3 refuses parts smaller than this (except the last). */
const MIN_PART_SIZE = 5 * MiB
/** DeleteObjects takes at most this many keys a request. */
const DELETE_BATCH = 1000
/** How many DeleteObject requests run at once when DeleteObjects is not available. */
const SINGLE_DELETE_CONCURRENCY = 16
/** Listing passes deleteByPrefix makes before giving up on a prefix that keeps refilling. */
const MAX_DELETE_PASSES = 5

export interface S3BlobStoreOptions {
  /** The bucket every blob goes in; created when missing (see `ensureBucket`). */
  bucket: string
  /** For S3-compatible servers (MinIO, s3rver): `http://host:port`. Default: AWS S3 for `region`. */
  endpoint?: string
  /** Default `'us-east-1'`. */
  region?: string
  /** `http://host/bucket/key` rather than `http://bucket.host/key`; what MinIO and s3rver want. Default `true`. */
  forcePathStyle?: boolean
  /** Default: the SDK's provider chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, IAM roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** A ready client; `endpoint`, `region`, `forcePathStyle` and `credentials` are then ignored. */
  client?: S3Client
  /** Bodies larger than this are uploaded in parts of this size (at least 5 MiB). Default 8 MiB. */
  partSizeBytes?: number
}

/** An S3 call failed; the message names the operation, bucket, key and endpoint. The SDK's error is `cause`. */
export class S3BlobStoreError extends Error {
  override name = 'S3BlobStoreError'
}

interface SdkError {
  name?: string
  code?: string
  message?: string
  errors?: unknown[]
  $metadata?: { httpStatusCode?: number }
}

const statusOf = (error: unknown): number | undefined => (error as SdkError | undefined)?.$metadata?.httpStatusCode
const nameOf = (error: unknown): string | undefined => (error as SdkError | undefined)?.name

/** 404 covers NoSuchKey, NoSuchBucket, and HEAD responses, which have no body to name the error. */
const isNotFound = (error: unknown): boolean => statusOf(error) === 404

/** What a server says when it lacks an API (as opposed to refusing this request). */
const isUnsupported = (error: unknown): boolean => {
  const status = statusOf(error)
  return status === 501 || status === 405 || nameOf(error) === 'NotImplemented' || nameOf(error) === 'MethodNotAllowed'
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const e = error as Error & SdkError
  // Connection failures to a host with several addresses come as an AggregateError with no message.
  const inner = !e.message && Array.isArray(e.errors) ? e.errors.map(describe).join('; ') : ''
  const code = e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''
  const status = statusOf(e) ? ` [HTTP ${statusOf(e)}]` : ''
  return `${e.name}: ${e.message || inner || 'no message'}${code}${status}`
}

/**
 * The BlobStore of production: one S3 bucket. Large bodies go up as multipart uploads.
 *
 * The bucket is made sure of once, lazily, before the first write (`put`), and by
 * `ping()`, so a start-up check creates it too; call `ensureBucket()` to do it at a chosen time.
 * Reads never create it: in a missing bucket every key is missing (`get` → undefined,
 * `deleteByPrefix` → 0).
 *
 * @example
 * const blobs = new S3BlobStore({ bucket: 'ytrag', endpoint: 'http://minio:9000' })
 * await blobs.ping() // throws "S3 … at http://minio:9000 failed: …" when S3 cannot be used
 * await blobs.put('videos/abc/captions.en.vtt', vtt, 'text/vtt')
 * await blobs.deleteByPrefix('videos/abc/') // 1
 */
export class S3BlobStore implements BlobStore {
  readonly bucket: string
  readonly #client: S3Client
  /** Only a client this store made is destroyed by close(). */
  readonly #ownsClient: boolean
  readonly #endpoint: string | undefined
  readonly #region: string | undefined
  readonly #partSize: number
  #bucketReady: Promise<void> | undefined
  /** Set once a server has said it has no DeleteObjects; later deletes go one key at a time. */
  #deleteObjectsUnsupported = false

  constructor(options: S3BlobStoreOptions) {
    const { bucket, endpoint, region, forcePathStyle = true, credentials, client, partSizeBytes = 8 * MiB } = options
    if (!bucket) throw new TypeError('S3BlobStore: `bucket` is required')
    if (!Number.isInteger(partSizeBytes) || partSizeBytes < MIN_PART_SIZE) {
      throw new RangeError(
        `S3BlobStore: partSizeBytes must be an integer of at least ${MIN_PART_SIZE} (5 MiB), got ${partSizeBytes}`,
      )
    }
    this.bucket = bucket
    this.#partSize = partSizeBytes
    this.#endpoint = endpoint
    this.#region = client ? region : (region ?? 'us-east-1')
    this.#ownsClient = !client
    this.#client =
      client ??
      new S3Client({
        region: this.#region ?? 'us-east-1',
        forcePathStyle,
        ...(endpoint ? { endpoint } : {}),
        ...(credentials ? { credentials } : {}),
        // Without it an unroutable endpoint hangs each attempt for the OS's TCP timeout (minutes).
        requestHandler: { connectionTimeout: 10_000 },
      })
  }

  /**
   * Creates the bucket unless it exists. Idempotent, and safe to race (another process creating
   * the same bucket is not an error). The first write awaits it; later calls reuse the result.
   *
   * @example
   * await new S3BlobStore({ bucket: 'ytrag' }).ensureBucket()
   */
  ensureBucket(): Promise<void> {
    this.#bucketReady ??= this.#createBucketIfMissing().catch((error: unknown) => {
      // Not cached: a server that was down at the first write may be up at the next.
      this.#bucketReady = undefined
      throw error
    })
    return this.#bucketReady
  }

  /**
   * Stores `body` (a string is stored as UTF-8). Bodies over `partSizeBytes` go up in parts.
   *
   * @example
   * await blobs.put('videos/abc/transcript.json', JSON.stringify(transcript), 'application/json')
   */
  async put(key: string, body: Uint8Array | string, contentType?: string): Promise<void> {
    assertBlobKey(key)
    await this.#upload(key, typeof body === 'string' ? Buffer.from(body, 'utf8') : body, contentType)
  }

  /**
   * The blob's bytes, or undefined when there is no such key.
   *
   * @example
   * const vtt = await blobs.get('videos/abc/captions.en.vtt')
   */
  async get(key: string): Promise<Uint8Array | undefined> {
    assertBlobKey(key)
    try {
      const { Body } = await this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))
      if (!Body) return new Uint8Array()
      const bytes = await Body.transformToByteArray()
      // A plain Uint8Array, so callers comparing bytes are not surprised by Buffer's extras.
      return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw await this.#fail('GetObject', error, key)
    }
  }

  /**
   * The blob's size, or undefined when there is no such key.
   *
   * @example
   * await blobs.head('videos/abc/audio.opus') // { size: 1048576 }
   */
  async head(key: string): Promise<{ size: number } | undefined> {
    assertBlobKey(key)
    try {
      const { ContentLength } = await this.#client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))
      return { size: ContentLength ?? 0 }
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw await this.#fail('HeadObject', error, key)
    }
  }

  /**
   * Deletes every key starting with `prefix` (a plain string prefix) and returns how many.
   * Keys are listed a page (≤ 1000) at a time and each page deleted with one DeleteObjects.
   *
   * @example
   * await blobs.deleteByPrefix('videos/abc/') // 3
   */
  async deleteByPrefix(prefix: string): Promise<number> {
    assertBlobPrefix(prefix)
    let total = 0
    // Passes until a listing from the start finds nothing. That last, usually empty, listing
    // catches keys written behind the cursor while we deleted, and servers whose listing order is
    // not strictly by key (s3rver lists `a/b` before `a-b`), where a continuation token steps over keys.
    for (let pass = 1; pass <= MAX_DELETE_PASSES; pass++) {
      const deleted = await this.#deletePass(prefix)
      if (deleted === 0) return total
      total += deleted
    }
    throw new S3BlobStoreError(
      `S3 deleteByPrefix of "${prefix}" in bucket "${this.bucket}" at ${await this.#where()}: keys were still there after ${MAX_DELETE_PASSES} passes (${total} deleted); is something writing under the prefix?`,
    )
  }

  /**
   * Throws unless the bucket can be used: one HeadBucket, creating the bucket when missing.
   * The error names S3 and the endpoint.
   *
   * @example
   * await blobs.ping()
   */
  async ping(): Promise<void> {
    if (await this.#bucketExists()) return
    // Missing: create it now, so a start-up check fails only when S3 truly cannot be used.
    this.#bucketReady = undefined
    await this.ensureBucket()
  }

  /**
   * Releases the HTTP connections of the client this store made (a given client is left open).
   *
   * @example
   * await blobs.close()
   */
  async close(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy()
  }

  async #upload(key: string, body: Uint8Array, contentType: string | undefined): Promise<void> {
    await this.ensureBucket()
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.bucket, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) },
      partSize: this.#partSize,
      // 4 parts in flight: 32 MiB of buffers at the default part size.
      queueSize: 4,
      // Abort a failed multipart upload, so its parts do not linger (and cost) in the bucket.
      leavePartsOnError: false,
    })
    try {
      await upload.done()
    } catch (error) {
      throw await this.#fail('upload', error, key)
    }
  }

  /** One walk of the prefix with continuation tokens, deleting each page as it comes. */
  async #deletePass(prefix: string): Promise<number> {
    let deleted = 0
    let token: string | undefined
    do {
      let page
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        )
      } catch (error) {
        // No bucket: nothing to delete.
        if (nameOf(error) === 'NoSuchBucket') return deleted
        throw await this.#fail('ListObjectsV2', error, undefined, prefix)
      }
      const keys = (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [object.Key]))
      for (let i = 0; i < keys.length; i += DELETE_BATCH)
        deleted += await this.#deleteKeys(keys.slice(i, i + DELETE_BATCH))
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return deleted
  }

  async #deleteKeys(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0
    if (!this.#deleteObjectsUnsupported) {
      try {
        // Quiet: the answer lists only the keys that failed.
        const { Errors = [] } = await this.#client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
          }),
        )
        const first = Errors[0]
        if (first) {
          throw new S3BlobStoreError(
            `S3 DeleteObjects in bucket "${this.bucket}" at ${await this.#where()} failed for ${Errors.length} of ${keys.length} keys, first "${first.Key}": ${first.Code}: ${first.Message}`,
          )
        }
        return keys.length
      } catch (error) {
        if (error instanceof S3BlobStoreError) throw error
        if (!isUnsupported(error)) throw await this.#fail('DeleteObjects', error, keys[0])
        this.#deleteObjectsUnsupported = true
      }
    }
    for (let i = 0; i < keys.length; i += SINGLE_DELETE_CONCURRENCY) {
      await Promise.all(
        keys.slice(i, i + SINGLE_DELETE_CONCURRENCY).map(async (key) => {
          try {
            await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }))
          } catch (error) {
            throw await this.#fail('DeleteObject', error, key)
          }
        }),
      )
    }
    return keys.length
  }

  async #bucketExists(): Promise<boolean> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.bucket }))
      return true
    } catch (error) {
      if (isNotFound(error)) return false
      throw await this.#fail('HeadBucket', error)
    }
  }

  async #createBucketIfMissing(): Promise<void> {
    if (await this.#bucketExists()) return
    const region = this.#region ?? (await this.#client.config.region())
    try {
      await this.#client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          // us-east-1 is the one region that must not be named.
          ...(region && region !== 'us-east-1'
            ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }
            : {}),
        }),
      )
    } catch (error) {
      // Someone else created it first. On AWS BucketAlreadyExists means another account owns the
      // name; s3rver says it for our own bucket too. A second HeadBucket tells which.
      if (nameOf(error) === 'BucketAlreadyOwnedByYou') return
      if (nameOf(error) === 'BucketAlreadyExists' && (await this.#bucketExists())) return
      throw await this.#fail('CreateBucket', error)
    }
  }

  /** The endpoint, for messages: the one given, else the client's, else AWS's for the region. */
  async #where(): Promise<string> {
    if (this.#endpoint) return this.#endpoint
    try {
      const endpoint = await this.#client.config.endpoint?.()
      if (endpoint)
        return `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ''}${endpoint.path === '/' ? '' : endpoint.path}`
      return `AWS S3 (${this.#region ?? (await this.#client.config.region())})`
    } catch {
      return 'the S3 endpoint'
    }
  }

  async #fail(operation: string, error: unknown, key?: string, prefix?: string): Promise<S3BlobStoreError> {
    const what =
      key !== undefined ? `key "${key}" in bucket` : prefix !== undefined ? `prefix "${prefix}" in bucket` : 'bucket'
    return new S3BlobStoreError(
      `S3 ${operation} of ${what} "${this.bucket}" at ${await this.#where()} failed: ${describe(error)}`,
      { cause: error },
    )
  }
}
