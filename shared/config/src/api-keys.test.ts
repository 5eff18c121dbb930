import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from './index.ts'

const hash = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'

describe('API__KEYS', () => {
  it('takes comma-separated SHA-256 hashes, from either name', () => {
    expect(loadConfig({ API__KEYS: `${hash}, ${hash.toUpperCase()}` }).api.keys).toEqual([hash, hash])
    expect(loadConfig({ YOUTUBE_RAG__API__KEYS: hash }).api.keys).toEqual([hash])
    expect(loadConfig({}).api.keys).toEqual([])
  })

  it('refuses a key given in place of its hash, naming the variable, and says what to put there', () => {
    expect(() => loadConfig({ API__KEYS: 'my-secret-key' })).toThrow(ConfigError)
    expect(() => loadConfig({ API__KEYS: 'my-secret-key' })).toThrow(
      /API__KEYS: each entry must be the hex SHA-256 of a key/,
    )
  })

  it('has the body limits and the in-memory limiter bound', () => {
    const config = loadConfig({
      API__MAX_BODY_BYTES: '1024',
      EVENTS__MAX_BODY_BYTES: '2048',
      RATE_LIMIT__MAX_CLIENTS: '5',
    })
    expect([config.api.maxBodyBytes, config.events.maxBodyBytes, config.rateLimit.maxClients]).toEqual([1024, 2048, 5])
    expect(() => loadConfig({ API__MAX_BODY_BYTES: '0' })).toThrow(/API__MAX_BODY_BYTES/)
  })
})
