import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
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
    expect([
      embedded.documentDb.provider,
      embedded.vectorDb.provider,
      embedded.blobStorage.provider,
      embedded.rateLimit.provider,
    ]).toEqual(['sqlite', 'sqlite', 'directory', 'memory'])
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
    expect(production.blobStorage).toMatchObject({
      provider: 's3',
      endpoint: 'http://minio:9000',
      forcePathStyle: false,
    })
  })

  it('names the variable of an unknown provider', () => {
    expect(() => loadConfig({ VECTOR_DB__PROVIDER: 'pinecone' })).toThrow(/VECTOR_DB__PROVIDER/)
  })
})

describe('settings from files (<NAME>_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-config-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const file = (name: string, text: string) => {
    const path = join(dir, name)
    writeFileSync(path, text)
    return path
  }

  it('reads a setting from the file its _FILE variable names, either name, without the trailing line break', () => {
    const proxy = file('proxy', 'http://user:p%40ss@proxy.example:3128\n')
    expect(loadConfig({ YOUTUBE_RAG__YTDLP__PROXY_FILE: proxy }).ytdlp.proxy).toBe(
      'http://user:p%40ss@proxy.example:3128',
    )
    expect(loadConfig({ YTDLP__PROXY_FILE: proxy }).ytdlp.proxy).toBe('http://user:p%40ss@proxy.example:3128')
    expect(loadConfig({ SERVER__PORT_FILE: file('port', '9002\r\n\n') }).server.port).toBe(9002)
  })

  it('takes several extractor args from a file, one a line', () => {
    const args = file(
      'extractor-args',
      'youtube:player_client=default,mweb;po_token=mweb.gvs+TOKEN\nyoutubetab:skip=webpage\n',
    )
    expect(loadConfig({ YOUTUBE_RAG__YTDLP__EXTRACTOR_ARGS_FILE: args }).ytdlp.extractorArgs).toEqual([
      'youtube:player_client=default,mweb;po_token=mweb.gvs+TOKEN',
      'youtubetab:skip=webpage',
    ])
  })

  it('names the _FILE variable whose file cannot be read, and one whose content is invalid', () => {
    expect(() => loadConfig({ YOUTUBE_RAG__YTDLP__PROXY_FILE: join(dir, 'missing') })).toThrow(ConfigError)
    expect(() => loadConfig({ YOUTUBE_RAG__YTDLP__PROXY_FILE: join(dir, 'missing') })).toThrow(
      /YOUTUBE_RAG__YTDLP__PROXY_FILE: the file .*missing cannot be read \(ENOENT\)/,
    )
    expect(() => loadConfig({ SERVER__PORT_FILE: file('bad-port', 'eighty') })).toThrow(/SERVER__PORT_FILE: /)
  })

  it('refuses a setting given both ways', () => {
    expect(() =>
      loadConfig({ YOUTUBE_RAG__YTDLP__PROXY: 'http://a:1', YTDLP__PROXY_FILE: file('p2', 'http://b:2') }),
    ).toThrow(/YOUTUBE_RAG__YTDLP__PROXY and YTDLP__PROXY_FILE are both set; keep one/)
  })
})

describe('ytdlp', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-config-ytdlp-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('defaults to this Node as the JavaScript runtime, the 2025.11.12 floor, and a warning below it', () => {
    expect(loadConfig({}).ytdlp).toEqual({
      extractorArgs: [],
      jsRuntimes: ['node'],
      remoteComponents: [],
      minVersion: '2025.11.12',
      belowFloor: 'warn',
      localDownload: 'auto',
    })
  })

  it('reads every setting, | or new lines between extractor args', () => {
    const cookies = join(dir, 'cookies.txt')
    writeFileSync(cookies, '# Netscape HTTP Cookie File\n')
    const config = loadConfig({
      YOUTUBE_RAG__YTDLP__COOKIES_FILE: cookies,
      YOUTUBE_RAG__YTDLP__PROXY: 'https://user:secret@proxy.example:8443',
      YOUTUBE_RAG__YTDLP__EXTRACTOR_ARGS: 'youtube:player_client=default,mweb | youtubetab:skip=webpage',
      YOUTUBE_RAG__YTDLP__SLEEP_REQUESTS_SECONDS: '1.5',
      YOUTUBE_RAG__YTDLP__JS_RUNTIMES: 'deno, quickjs:/opt/qjs',
      YOUTUBE_RAG__YTDLP__REMOTE_COMPONENTS: 'ejs:npm',
      YOUTUBE_RAG__YTDLP__MIN_VERSION: '2026.01.02',
      YOUTUBE_RAG__YTDLP__BELOW_FLOOR: 'refuse',
      YTDLP__LOCAL_DOWNLOAD: 'off',
    })
    expect(config.ytdlp).toEqual({
      cookiesFile: cookies,
      proxy: 'https://user:secret@proxy.example:8443',
      extractorArgs: ['youtube:player_client=default,mweb', 'youtubetab:skip=webpage'],
      sleepRequestsSeconds: 1.5,
      jsRuntimes: ['deno', 'quickjs:/opt/qjs'],
      remoteComponents: ['ejs:npm'],
      minVersion: '2026.01.02',
      belowFloor: 'refuse',
      localDownload: 'off',
    })
    expect(loadConfig({ YOUTUBE_RAG__YTDLP__JS_RUNTIMES: 'none' }).ytdlp.jsRuntimes).toEqual([])
  })

  it('says which setting is wrong, and never echoes a proxy password', () => {
    expect(() => loadConfig({ YOUTUBE_RAG__YTDLP__COOKIES_FILE: join(dir, 'absent.txt') })).toThrow(
      /YOUTUBE_RAG__YTDLP__COOKIES_FILE: the cookies file .*absent\.txt cannot be read \(ENOENT\)/,
    )
    const bad = () => loadConfig({ YOUTUBE_RAG__YTDLP__PROXY: 'socks5://user:hunter2@proxy.example:1080' })
    expect(bad).toThrow(/YOUTUBE_RAG__YTDLP__PROXY: the scheme socks5: is not taken/)
    expect(bad).not.toThrow(/hunter2/)
    expect(() => loadConfig({ YOUTUBE_RAG__YTDLP__PROXY: 'http://user:hunter2@proxy.example:3128/path' })).toThrow(
      /no path/,
    )
    expect(() => loadConfig({ YOUTUBE_RAG__YTDLP__JS_RUNTIMES: 'node,spidermonkey' })).toThrow(
      /YOUTUBE_RAG__YTDLP__JS_RUNTIMES: unknown JavaScript runtime "spidermonkey"/,
    )
    expect(() => loadConfig({ YOUTUBE_RAG__YTDLP__MIN_VERSION: 'latest' })).toThrow(
      /YOUTUBE_RAG__YTDLP__MIN_VERSION: a yt-dlp date version/,
    )
    expect(() => loadConfig({ YOUTUBE_RAG__YTDLP__BELOW_FLOOR: 'ignore' })).toThrow(/YOUTUBE_RAG__YTDLP__BELOW_FLOOR/)
  })
})
