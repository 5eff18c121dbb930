// An S3 protocol server for tests: s3rver (npm), in process, on loopback. The machine has no
// Docker, so this stands in for S3/MinIO wherever the S3 adapter is tested.
import crypto from 'node:crypto'
import fs from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import S3rver from 's3rver'

/** s3rver's one built-in account. It checks the access key; V4 signatures are not verified. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const

/** One HTTP request the server received, as sent (path-style: `/<bucket>/<key>?<query>`). */
export interface S3rverRequest {
  method: string
  url: string
  /** The response's status, once it has been sent. */
  status?: number
}

export interface RunningS3rver {
  /** `http://127.0.0.1:<port>`; use path-style addressing (`forcePathStyle: true`). */
  endpoint: string
  /** The credentials s3rver accepts (S3RVER / S3RVER). */
  credentials: typeof S3RVER_CREDENTIALS
  /**
   * Every request received so far, in order of arrival: lets a test prove which S3 calls were
   * made (a multipart upload, a batch delete) rather than trusting the client.
   */
  requests: S3rverRequest[]
  /** Stops the server, dropping open connections, and removes its directory. */
  close(): Promise<void>
}

/**
 * s3rver makes ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node 17+)
 * only has behind --openssl-legacy-provider: without it the second page of any listing is a 500.
 * Single DES is 3DES-EDE with both keys the same, which OpenSSL 3 still has, so map one to the
 * other. Only the 'des' name is touched, and nothing else can have been using it (it throws).
 */
function letS3rverUseDes(): void {
  const patched = Symbol.for('ytrag.s3rver.des')
  const target = crypto as unknown as Record<PropertyKey, unknown>
  if (target[patched]) return
  const asDesEde = (key: crypto.CipherKey): Buffer => {
    const bytes = Buffer.from(key as Uint8Array)
    return Buffer.concat([bytes, bytes])
  }
  const { createCipheriv, createDecipheriv } = crypto
  type Make = (algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: unknown) => unknown
  const wrap = (make: Make): Make =>
    function (this: unknown, algorithm, key, iv, options) {
      return algorithm === 'des'
        ? make.call(this, 'des-ede-cbc', asDesEde(key), iv, options)
        : make.call(this, algorithm, key, iv, options)
    }
  target.createCipheriv = wrap(createCipheriv as unknown as Make)
  target.createDecipheriv = wrap(createDecipheriv as unknown as Make)
  target[patched] = true
}

/**
 * Starts s3rver on 127.0.0.1 with a random port and a fresh temporary directory.
 *
 * @example
 * const s3 = await startS3rver()
 * const blobs = new S3BlobStore({ bucket: 'test', endpoint: s3.endpoint, credentials: s3.credentials })
 * await blobs.put('videos/abc/t.json', '{}')
 * await s3.close()
 */
export async function startS3rver(): Promise<RunningS3rver> {
  letS3rverUseDes()
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'ytrag-s3rver-'))
  // vhostBuckets off: every request is path-style, whatever the Host header says.
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false })
  let address: Awaited<ReturnType<S3rver['run']>>
  try {
    address = await server.run()
  } catch (error) {
    await fs.rm(directory, { recursive: true, force: true })
    throw error
  }
  const requests: S3rverRequest[] = []
  // A second 'request' listener only observes: s3rver's own listener still answers.
  server.httpServer?.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const request: S3rverRequest = { method: req.method ?? '', url: req.url ?? '' }
    requests.push(request)
    res.on('finish', () => {
      request.status = res.statusCode
    })
  })
  let closed: Promise<void> | undefined
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    credentials: S3RVER_CREDENTIALS,
    requests,
    close() {
      closed ??= (async () => {
        const stopped = server.close()
        // Keep-alive sockets of SDK clients would hold close() open until they time out.
        server.httpServer?.closeAllConnections()
        try {
          await stopped
        } finally {
          await fs.rm(directory, { recursive: true, force: true })
        }
      })()
      return closed
    },
  }
}
