export * from './deep-link/index.ts'
export * from './ingest-url/index.ts'
export * from './ytdlp/index.ts'
export * from './channel/index.ts'
