import { describe, expect, it, vi } from 'vitest'
import { addressRange, checkHost, checkIngestUrl, isIpLiteral, type IngestUrlOptions } from './index.ts'

const YOUTUBE = ['www.youtube.com', 'youtube.com', 'm.youtube.com', 'music.youtube.com', 'youtu.be']

/** A resolver over a fixed table; an unknown name fails like `dns.lookup` does. */
function table(entries: Record<string, string[]>) {
  return vi.fn(async (host: string) => {
    const found = entries[host]
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' })
    return found
  })
}

const publicDns = table({
  'www.youtube.com': ['142.250.74.46', '2a00:1450:4001:82b::200e'],
  'youtube.com': ['142.250.74.46'],
  'youtu.be': ['142.250.74.46'],
  'videos.example': ['93.184.216.34'],
  'intranet.example': ['10.0.0.1'],
  'mixed.example': ['93.184.216.34', '192.168.1.20'],
  'metadata.example': ['169.254.169.254'],
  'loop6.example': ['::1'],
  'mapped.example': ['::ffff:127.0.0.1'],
  'ula.example': ['fd12:3456::1'],
  'cgnat.example': ['100.64.1.1'],
  'empty.example': [],
})

const check = (input: unknown, options: Partial<IngestUrlOptions> = {}) =>
  checkIngestUrl(input, { allowedHosts: YOUTUBE, resolve: publicDns, ...options })

const codeOf = async (input: unknown, options: Partial<IngestUrlOptions> = {}) => {
  const result = await check(input, options)
  return result.ok ? 'ok' : result.code
}

describe('checkIngestUrl', () => {
  it('accepts YouTube URLs that resolve to public addresses', async () => {
    const result = await check('https://www.youtube.com/watch?v=dQw4w9WgXcQ')
    expect(result).toMatchObject({ ok: true })
    if (result.ok) expect(result.url.searchParams.get('v')).toBe('dQw4w9WgXcQ')
    expect(await codeOf('https://youtu.be/dQw4w9WgXcQ')).toBe('ok')
    expect(await codeOf('  http://youtube.com/@channel  ')).toBe('ok')
  })

  it.each([
    [42],
    [undefined],
    [null],
    [{ url: 'https://youtube.com' }],
    [''],
    ['   '],
    ['not a url'],
    ['www.youtube.com/watch?v=dQw4w9WgXcQ'],
    ['http://'],
    ['http://exa mple.com/'],
  ])('refuses %j as invalid_url', async (input) => {
    expect(await codeOf(input)).toBe('invalid_url')
  })

  it.each([
    'ftp://www.youtube.com/x',
    'javascript:alert(1)',
    'file:///etc/passwd',
    'data:text/html,hi',
    'ws://www.youtube.com/',
    'gopher://youtube.com/',
  ])('refuses %s as unsupported_scheme', async (input) => {
    const result = await check(input)
    expect(result).toMatchObject({ ok: false, code: 'unsupported_scheme' })
    if (!result.ok) expect(result.message).toMatch(/http:\/\/ or https:\/\//)
  })

  it('refuses credentials in the URL', async () => {
    for (const input of [
      'https://user:pw@www.youtube.com/',
      'https://user@www.youtube.com/',
      'https://:pw@www.youtube.com/',
    ]) {
      const result = await check(input)
      expect(result).toMatchObject({ ok: false, code: 'invalid_url' })
      if (!result.ok) expect(result.message).toMatch(/user name or password/)
    }
  })

  it('refuses hosts not on the allow-list, naming the setting', async () => {
    const result = await check('https://evil.example/watch?v=x')
    expect(result).toEqual({
      ok: false,
      code: 'host_not_allowed',
      message: expect.stringContaining('host evil.example is not in YOUTUBE_RAG__INGEST__ALLOWED_HOSTS'),
    })
    expect(await codeOf('https://www.youtube.com.evil.example/')).toBe('host_not_allowed')
    expect(await codeOf('https://notyoutube.com/')).toBe('host_not_allowed')
    expect(await codeOf('https://youtube.com@evil.example/')).toBe('invalid_url')
    // WHATWG URL parsing reads "https:///watch" as the host "watch".
    expect(await codeOf('https:///watch')).toBe('host_not_allowed')
  })

  it('names a custom allow-list setting', async () => {
    const result = await check('https://evil.example/', { allowListName: 'ALLOWED' })
    expect(result.ok ? '' : result.message).toMatch(/not in ALLOWED;/)
  })

  it('refuses metadata, loopback and private IP literals that are not allow-listed', async () => {
    for (const input of [
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/',
      'http://10.0.0.1/',
      'http://127.0.0.1:4000/',
      'http://0x7f.1/',
      'http://2130706433/',
    ]) {
      expect(await codeOf(input)).toBe('host_not_allowed')
    }
  })

  it('matches hosts case-insensitively, ignoring a trailing dot', async () => {
    expect(await codeOf('https://WWW.YouTube.COM/watch?v=dQw4w9WgXcQ')).toBe('ok')
    expect(await codeOf('https://www.youtube.com./watch?v=dQw4w9WgXcQ')).toBe('ok')
    expect(await codeOf('https://videos.example/', { allowedHosts: [' Videos.Example '] })).toBe('ok')
  })

  it('lets a host entry match any port and a host:port entry only that port', async () => {
    expect(await codeOf('http://videos.example:8080/a', { allowedHosts: ['videos.example'] })).toBe('ok')
    expect(await codeOf('http://videos.example:8080/a', { allowedHosts: ['videos.example:8080'] })).toBe('ok')
    const other = await check('http://videos.example:9090/a', { allowedHosts: ['videos.example:8080'] })
    expect(other).toMatchObject({ ok: false, code: 'host_not_allowed' })
    expect(other.ok ? '' : other.message).toMatch(/host videos\.example:9090 is not in/)
    expect(await codeOf('http://videos.example/a', { allowedHosts: ['videos.example:8080'] })).toBe('host_not_allowed')
  })

  it('compares the effective port when the URL leaves out the default one', async () => {
    expect(await codeOf('http://videos.example/a', { allowedHosts: ['videos.example:80'] })).toBe('ok')
    expect(await codeOf('https://videos.example/a', { allowedHosts: ['videos.example:443'] })).toBe('ok')
    expect(await codeOf('https://videos.example/a', { allowedHosts: ['videos.example:80'] })).toBe('host_not_allowed')
    expect(await codeOf('http://videos.example:80/a', { allowedHosts: ['videos.example:80'] })).toBe('ok')
  })

  it('accepts loopback and private addresses whose IP or localhost is allow-listed explicitly', async () => {
    const resolve = vi.fn(async () => ['127.0.0.1'])
    expect(await codeOf('http://127.0.0.1:4000/page.html', { allowedHosts: ['127.0.0.1:4000'], resolve })).toBe('ok')
    expect(await codeOf('http://127.0.0.1:4000/page.html', { allowedHosts: ['127.0.0.1'], resolve })).toBe('ok')
    expect(await codeOf('http://localhost:4000/page.html', { allowedHosts: ['localhost:4000'], resolve })).toBe('ok')
    expect(await codeOf('http://[::1]:4000/', { allowedHosts: ['[::1]:4000'], resolve })).toBe('ok')
    expect(await codeOf('http://[::1]/', { allowedHosts: ['[::1]'], resolve })).toBe('ok')
    expect(await codeOf('http://[::1]/', { allowedHosts: ['::1'], resolve })).toBe('ok')
    expect(await codeOf('http://[0:0::1]/', { allowedHosts: ['[::0001]'], resolve })).toBe('ok')
    expect(await codeOf('http://10.0.0.1/', { allowedHosts: ['10.0.0.1'], resolve })).toBe('ok')
    expect(await codeOf('http://169.254.169.254/', { allowedHosts: ['169.254.169.254'], resolve })).toBe('ok')
    expect(resolve).not.toHaveBeenCalled()
  })

  it('does not let a port-specific IP entry open other ports', async () => {
    expect(await codeOf('http://127.0.0.1:22/', { allowedHosts: ['127.0.0.1:4000'] })).toBe('host_not_allowed')
  })

  it('refuses an allow-listed name that resolves to a private address', async () => {
    const result = await check('http://intranet.example/', { allowedHosts: ['intranet.example'] })
    expect(result).toMatchObject({ ok: false, code: 'private_address' })
    expect(result.ok ? '' : result.message).toMatch(/host intranet\.example resolves to 10\.0\.0\.1, a private address/)
    expect(result.ok ? '' : result.message).toMatch(/by IP address or as localhost/)
  })

  it('refuses a name when any of its addresses is internal', async () => {
    expect(await codeOf('http://mixed.example/', { allowedHosts: ['mixed.example'] })).toBe('private_address')
  })

  it.each(['metadata.example', 'loop6.example', 'mapped.example', 'ula.example', 'cgnat.example'])(
    'refuses %s, which resolves to an internal address',
    async (host) => {
      expect(await codeOf(`https://${host}/v`, { allowedHosts: [host] })).toBe('private_address')
    },
  )

  it('checks localhost-like names by their addresses unless localhost itself is listed', async () => {
    const resolve = vi.fn(async () => ['127.0.0.1'])
    expect(await codeOf('http://app.localhost/', { allowedHosts: ['app.localhost'], resolve })).toBe('private_address')
    expect(await codeOf('http://127.0.0.1.nip.io/', { allowedHosts: ['127.0.0.1.nip.io'], resolve })).toBe(
      'private_address',
    )
  })

  it('accepts an allow-listed name that resolves to a public address, resolving the bare host name', async () => {
    const resolve = table({ 'videos.example': ['93.184.216.34'] })
    expect(await codeOf('https://videos.example:8443/watch', { allowedHosts: ['videos.example'], resolve })).toBe('ok')
    expect(resolve).toHaveBeenCalledWith('videos.example')
  })

  it('accepts an allow-listed name that does not resolve now (nothing internal is reachable through it)', async () => {
    expect(await codeOf('https://missing.example/', { allowedHosts: ['missing.example'] })).toBe('ok')
    expect(await codeOf('https://empty.example/', { allowedHosts: ['empty.example'] })).toBe('ok')
  })

  it('ignores allow-list entries it cannot parse and tolerates a scheme in an entry', async () => {
    expect(
      await codeOf('https://videos.example/', { allowedHosts: ['', 'bad host', 'x:99999', 'https://videos.example/'] }),
    ).toBe('ok')
    expect(await codeOf('https://x/', { allowedHosts: ['x:99999'] })).toBe('host_not_allowed')
  })

  it('canonicalises IDN hosts on both sides', async () => {
    const resolve = vi.fn(async () => ['93.184.216.34'])
    expect(await codeOf('https://bücher.example/', { allowedHosts: ['xn--bcher-kva.example'], resolve })).toBe('ok')
    expect(await codeOf('https://xn--bcher-kva.example/', { allowedHosts: ['BÜCHER.example'], resolve })).toBe('ok')
  })
})

describe('checkIngestUrl: one URL per video', () => {
  const ID = 'a-_9Zk3-Q_w'
  const urlOf = async (input: string, options: Partial<IngestUrlOptions & { playlist: boolean }> = {}) => {
    const result = await check(input, options)
    return result.ok ? result.url.href : result.code
  }

  it('gives the canonical watch URL and the video id for every form of a video', async () => {
    for (const input of [
      `https://youtu.be/${ID}?si=Zx`,
      `https://m.youtube.com/shorts/${ID}`,
      `https://music.youtube.com/watch?v=${ID}&t=42`,
      `https://www.youtube.com/live/${ID}?feature=share`,
    ]) {
      expect(await check(input)).toEqual({
        ok: true,
        url: new URL(`https://www.youtube.com/watch?v=${ID}`),
        videoId: ID,
      })
    }
  })

  it('takes the playlist of a video in a playlist only when asked to', async () => {
    const input = `https://www.youtube.com/watch?v=${ID}&list=PLabcdefghij&index=2`
    expect(await urlOf(input)).toBe(`https://www.youtube.com/watch?v=${ID}`)
    expect(await urlOf(input, { playlist: true })).toBe('https://www.youtube.com/playlist?list=PLabcdefghij')
  })

  it('refuses a YouTube URL whose video id is malformed, saying why', async () => {
    const result = await check('https://www.youtube.com/watch?v=dQw4w9WgXc')
    expect(result).toMatchObject({ ok: false, code: 'invalid_url' })
    expect(result.ok ? '' : result.message).toMatch(/the v= parameter holds "dQw4w9WgXc", not a YouTube video id/)
    expect(await urlOf('https://youtu.be/')).toBe('invalid_url')
  })

  it('checks the host given and the host fetched against the allow-list', async () => {
    // youtube-nocookie.com is not listed: the user's host is refused even though www.youtube.com is.
    const nocookie = await check(`https://www.youtube-nocookie.com/embed/${ID}`)
    expect(nocookie).toMatchObject({ ok: false, code: 'host_not_allowed' })
    expect(nocookie.ok ? '' : nocookie.message).toMatch(/host www\.youtube-nocookie\.com is not in/)
    // youtu.be listed but www.youtube.com not: the canonical URL is fetched from www.youtube.com.
    const fetched = await check(`https://youtu.be/${ID}`, { allowedHosts: ['youtu.be'] })
    expect(fetched).toMatchObject({ ok: false, code: 'host_not_allowed' })
    expect(fetched.ok ? '' : fetched.message).toMatch(/host www\.youtube\.com is not in/)
  })

  it('leaves URLs of other sites as they are, and still refuses look-alike hosts', async () => {
    expect(await urlOf('https://videos.example/talk.html?si=1', { allowedHosts: ['videos.example'] })).toBe(
      'https://videos.example/talk.html?si=1',
    )
    expect(await urlOf(`https://youtu.be.evil.example/${ID}`)).toBe('host_not_allowed')
    expect(await urlOf(`https://www.youtube.com.evil.example/watch?v=${ID}`)).toBe('host_not_allowed')
  })
})

describe('addressRange', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:a00:1::', 'private'],
    ['2001:db8::1', 'reserved'],
  ])('%s is %s', (address, range) => {
    expect(addressRange(address)).toBe(range)
  })

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:808:808::',
    'example.com',
    '',
  ])('%s is public or not an address', (address) => {
    expect(addressRange(address)).toBeUndefined()
  })

  it('tells IP literals from names', () => {
    expect(isIpLiteral('[::1]')).toBe(true)
    expect(isIpLiteral('10.0.0.1')).toBe(true)
    expect(isIpLiteral('localhost')).toBe(false)
  })
})

describe('checkHost (the rule the egress proxy and guardedFetch apply to every request)', () => {
  const dns = table({
    'rr1---sn-abc.googlevideo.com': ['142.250.74.46'],
    'inside.googlevideo.com': ['10.1.2.3'],
    'evilgooglevideo.com': ['93.184.216.34'],
    localhost: ['127.0.0.1', '::1'],
  })
  const hosts = ['*.googlevideo.com', 'localhost:4000']

  it('takes any subdomain of a *.domain entry, never the bare or a look-alike domain, and still checks its addresses', async () => {
    expect(await checkHost('rr1---sn-abc.googlevideo.com', 443, { allowedHosts: hosts, resolve: dns })).toEqual({
      ok: true,
      addresses: ['142.250.74.46'],
    })
    expect(await checkHost('googlevideo.com', 443, { allowedHosts: hosts, resolve: dns })).toMatchObject({
      ok: false,
      code: 'host_not_allowed',
    })
    expect(await checkHost('evilgooglevideo.com', 443, { allowedHosts: hosts, resolve: dns })).toMatchObject({
      ok: false,
      code: 'host_not_allowed',
    })
    expect(await checkHost('inside.googlevideo.com', 443, { allowedHosts: hosts, resolve: dns })).toMatchObject({
      ok: false,
      code: 'private_address',
    })
  })

  it('gives the addresses of an explicit localhost entry to connect to, on its port only; an unresolvable name is refused', async () => {
    expect(await checkHost('localhost', 4000, { allowedHosts: hosts, resolve: dns })).toEqual({
      ok: true,
      addresses: ['127.0.0.1', '::1'],
    })
    expect(await checkHost('localhost', 4001, { allowedHosts: hosts, resolve: dns })).toMatchObject({
      ok: false,
      code: 'host_not_allowed',
    })
    expect(await checkHost('nowhere.googlevideo.com', 443, { allowedHosts: hosts, resolve: dns })).toMatchObject({
      ok: false,
      code: 'unresolved',
    })
    expect(await checkHost('127.0.0.1', 4000, { allowedHosts: ['127.0.0.1:4000'], resolve: dns })).toEqual({
      ok: true,
      addresses: ['127.0.0.1'],
    })
  })

  it('does not take an IP address as a *. entry', async () => {
    expect(await checkHost('1.2.3.4', 80, { allowedHosts: ['*.1.2.3.4'], resolve: dns })).toMatchObject({
      ok: false,
      code: 'host_not_allowed',
    })
  })
})
