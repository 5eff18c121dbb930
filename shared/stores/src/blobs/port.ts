// The blobs port: bytes by key.

/** Blobs: caption files, transcripts, audio segments. Keys look like `videos/<videoId>/…`. */
export interface BlobStore {
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<void>
  get(key: string): Promise<Uint8Array | undefined>
  head(key: string): Promise<{ size: number } | undefined>
  deleteByPrefix(prefix: string): Promise<number>
  ping(): Promise<void>
}
