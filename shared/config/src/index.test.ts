import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './index.ts'

describe('loadConfig', () => {
  it('gives the embedded local defaults', () => {
    const config = loadConfig({})
    expect(config.server.port).toBe(8000)
    expect(config.storage.dir).toBe('./.youtube-rag')
    expect(config.ingest.allowedHosts).toContain('www.youtube.com')
    expect(config.ingest.allowedHosts).toContain('youtu.be')
  })

  it('reads YOUTUBE_RAG__ names and the deployment document names', () => {
    const config = loadConfig({
      YOUTUBE_RAG__SERVER__PORT: '9001',
      APP__ENVIRONMENT: 'staging',
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: '127.0.0.1:4000, Example.org',
      YOUTUBE_RAG__STORAGE__DIR: '/tmp/x',
    })
    expect(config.server.port).toBe(9001)
    expect(config.app.environment).toBe('staging')
    expect(config.ingest.allowedHosts).toEqual(['127.0.0.1:4000', 'example.org'])
    expect(config.storage.dir).toBe('/tmp/x')
  })

  it('prefers the YOUTUBE_RAG__ name when both are set', () => {
    expect(loadConfig({ SERVER__PORT: '1', YOUTUBE_RAG__SERVER__PORT: '2' }).server.port).toBe(2)
  })

  it('names the variable that holds a bad value', () => {
    expect(() => loadConfig({ SERVER__PORT: 'eighty' })).toThrow(ConfigError)
    expect(() => loadConfig({ SERVER__PORT: 'eighty' })).toThrow(/SERVER__PORT/)
    expect(() => loadConfig({ YOUTUBE_RAG__LOG__LEVEL: 'loud' })).toThrow(/YOUTUBE_RAG__LOG__LEVEL/)
  })
})

describe('store and provider selection', () => {
  it('defaults to the embedded stores and reads the seed names of the production ones', () => {
    const embedded = loadConfig({})
    expect([embedded.documentDb.provider, embedded.vectorDb.provider, embedded.blobStorage.provider, embedded.rateLimit.provider]).toEqual(['sqlite', 'sqlite', 'directory', 'memory'])
    const production = loadConfig({
      DOCUMENT_DB__PROVIDER: 'mongodb',
      DOCUMENT_DB__HOST: 'mongo',
      DOCUMENT_DB__PORT: '27018',
      VECTOR_DB__PROVIDER: 'qdrant',
      VECTOR_DB__HOST: 'qdrant',
      BLOB_STORAGE__PROVIDER: 's3',
      BLOB_STORAGE__ENDPOINT: 'http://minio:9000',
      YOUTUBE_RAG__BLOB_STORAGE__FORCE_PATH_STYLE: 'false',
    })
    expect(production.documentDb).toMatchObject({ provider: 'mongodb', host: 'mongo', port: 27018 })
    expect(production.vectorDb).toMatchObject({ provider: 'qdrant', host: 'qdrant', port: 6333 })
    expect(production.blobStorage).toMatchObject({ provider: 's3', endpoint: 'http://minio:9000', forcePathStyle: false })
  })

  it('names the variable of an unknown provider', () => {
    expect(() => loadConfig({ VECTOR_DB__PROVIDER: 'pinecone' })).toThrow(/VECTOR_DB__PROVIDER/)
  })
})
