// s3rver ships no types. Only what src/testing/s3rver.ts uses is declared; an ambient module
// file (no top-level import or export) so the declaration applies project-wide.
declare module 's3rver' {
  interface S3rverOptions {
    address?: string
    /** 0 picks a free port; read the one chosen from the address `run()` resolves with. */
    port?: number
    silent?: boolean
    directory?: string
    resetOnClose?: boolean
    allowMismatchedSignatures?: boolean
    vhostBuckets?: boolean
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[]
  }

  class S3rver {
    constructor(options?: S3rverOptions)
    /** Set once `run()` has resolved. */
    httpServer?: import('node:http').Server
    run(): Promise<import('node:net').AddressInfo>
    close(): Promise<void>
    reset(): void
  }

  export = S3rver
}
