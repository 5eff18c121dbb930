// YouTube can't be reached from tests, so these put a stand-in script where yt-dlp would be: it
// prints canned JSON shaped like yt-dlp's output for YouTube, and records its arguments.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ExtractionError, listVideos, VideoUnavailableError, videoInfo } from './index.ts'

// The stand-in reaches no network; the guard is still required, so it gets an empty allow-list.
const NO_HOSTS = { allowedHosts: [] }
// Every run goes through the loopback egress proxy, downloads natively, and ignores config files.
const GUARD_FLAGS = [
  '--proxy',
  expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
  '--downloader',
  'native',
  '--ignore-config',
]

let dir: string

/**
 * A yt-dlp stand-in: for a URL containing a key of `replies`, prints that reply's stdout and
 * stderr and exits with its code. Every call's arguments go to `args.log`, one per line.
 */
async function standIn(
  name: string,
  replies: Record<string, { stdout?: unknown; stderr?: string; exitCode?: number; sleep?: number }>,
) {
  const cases: string[] = []
  for (const [index, [key, reply]] of Object.entries(replies).entries()) {
    await writeFile(join(dir, `${name}-${index}.out`), reply.stdout === undefined ? '' : JSON.stringify(reply.stdout))
    await writeFile(join(dir, `${name}-${index}.err`), reply.stderr ?? '')
    cases.push(
      `  *'${key}'*) ${reply.sleep ? `echo $$ > '${dir}/${name}.pid'; exec sleep ${reply.sleep}` : `cat '${dir}/${name}-${index}.out'; cat '${dir}/${name}-${index}.err' >&2; exit ${reply.exitCode ?? 0}`} ;;`,
    )
  }
  const script = join(dir, `${name}.sh`)
  await writeFile(
    script,
    `#!/bin/sh\nprintf '%s\\n' "$@" >> '${dir}/${name}.args'\nprintf -- '--end--\\n' >> '${dir}/${name}.args'\nfor last; do :; done\ncase "$last" in\n${cases.join('\n')}\n  *) echo "ERROR: no canned reply for $last" >&2; exit 1 ;;\nesac\n`,
  )
  await chmod(script, 0o755)
  return {
    binary: script,
    calls: async () =>
      (await readFile(join(dir, `${name}.args`), 'utf8').catch(() => ''))
        .split('--end--\n')
        .filter(Boolean)
        .map((call) => call.split('\n').filter(Boolean)),
    pid: async () => Number(await readFile(join(dir, `${name}.pid`), 'utf8')),
  }
}

const watch = (id: string) => `https://www.youtube.com/watch?v=${id}`
const flatEntry = (id: string, extra: Record<string, unknown> = {}) => ({
  _type: 'url',
  ie_key: 'Youtube',
  id,
  url: watch(id),
  title: `Video ${id}`,
  description: null,
  duration: 61.0,
  channel_id: null,
  channel: null,
  view_count: 10,
  ...extra,
})

const CHANNEL_ID = 'UCabcdefghijklmnopqrstuv'
const tab = (name: string, entries: unknown[]) => ({
  _type: 'playlist',
  id: CHANNEL_ID,
  title: `Some Channel - ${name}`,
  channel: 'Some Channel',
  channel_id: CHANNEL_ID,
  uploader: 'Some Channel',
  webpage_url: `https://www.youtube.com/@some/${name.toLowerCase()}`,
  entries,
})

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ytrag-standin-'))
})

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('listVideos on YouTube-shaped output', () => {
  it('lists a playlist of url entries with their watch URLs, the channel filled in from the playlist', async () => {
    const fake = await standIn('playlist', {
      'list=PL1': {
        stdout: {
          _type: 'playlist',
          id: 'PL1',
          title: 'Talks',
          channel: 'Some Channel',
          channel_id: CHANNEL_ID,
          webpage_url: 'https://www.youtube.com/playlist?list=PL1',
          entries: [
            flatEntry('aaaaaaaaaaa', { timestamp: 1714979289 }),
            null, // yt-dlp prints unavailable entries as null
            flatEntry('bbbbbbbbbbb', {
              channel_id: 'UCother00000000000000000',
              channel: 'Guest',
              upload_date: '20240102',
              duration: null,
            }),
          ],
        },
        stderr: '[youtube:tab] Extracting URL\n',
      },
    })
    const list = await listVideos('https://www.youtube.com/playlist?list=PL1', {
      binary: fake.binary,
      egress: NO_HOSTS,
    })
    expect(list).toEqual({
      kind: 'playlist',
      title: 'Talks',
      channelId: CHANNEL_ID,
      videos: [
        {
          videoId: 'aaaaaaaaaaa',
          url: watch('aaaaaaaaaaa'),
          title: 'Video aaaaaaaaaaa',
          channelId: CHANNEL_ID,
          channel: 'Some Channel',
          durationSeconds: 61,
          publishedAt: '2024-05-06T07:08:09.000Z',
        },
        {
          videoId: 'bbbbbbbbbbb',
          url: watch('bbbbbbbbbbb'),
          title: 'Video bbbbbbbbbbb',
          channelId: 'UCother00000000000000000',
          channel: 'Guest',
          publishedAt: '2024-01-02T00:00:00.000Z',
        },
      ],
    })
    const [call] = await fake.calls()
    expect(call).toEqual([
      '--dump-single-json',
      '--flat-playlist',
      ...GUARD_FLAGS,
      '--',
      'https://www.youtube.com/playlist?list=PL1',
    ])
  })

  it("flattens a channel's tabs into one list, each video once, and follows listed playlists", async () => {
    const fake = await standIn('channel', {
      '@some': {
        stdout: {
          _type: 'playlist',
          id: CHANNEL_ID,
          title: 'Some Channel',
          channel: 'Some Channel',
          channel_id: CHANNEL_ID,
          webpage_url: 'https://www.youtube.com/@some',
          entries: [
            tab('Videos', [flatEntry('aaaaaaaaaaa'), flatEntry('bbbbbbbbbbb')]),
            tab('Shorts', [
              flatEntry('sssssssssss', { url: 'https://www.youtube.com/shorts/sssssssssss' }),
              flatEntry('aaaaaaaaaaa'),
            ]),
            {
              _type: 'url',
              ie_key: 'YoutubeTab',
              id: 'PL2',
              url: 'https://www.youtube.com/playlist?list=PL2',
              title: 'More',
            },
          ],
        },
      },
      'list=PL2': {
        stdout: {
          _type: 'playlist',
          id: 'PL2',
          title: 'More',
          webpage_url: 'https://www.youtube.com/playlist?list=PL2',
          entries: [flatEntry('ppppppppppp'), flatEntry('bbbbbbbbbbb')],
        },
      },
    })
    const list = await listVideos('https://www.youtube.com/@some', { binary: fake.binary, egress: NO_HOSTS })
    expect(list.kind).toBe('playlist')
    expect(list.channelId).toBe(CHANNEL_ID)
    expect(list.videos.map((video) => [video.videoId, video.url, video.channelId])).toEqual([
      ['aaaaaaaaaaa', watch('aaaaaaaaaaa'), CHANNEL_ID],
      ['bbbbbbbbbbb', watch('bbbbbbbbbbb'), CHANNEL_ID],
      ['sssssssssss', 'https://www.youtube.com/shorts/sssssssssss', CHANNEL_ID],
      ['ppppppppppp', watch('ppppppppppp'), undefined],
    ])
    expect(list.videos.every((video) => video.playlistItem === undefined)).toBe(true)
    expect((await fake.calls()).map((call) => call.at(-1))).toEqual([
      'https://www.youtube.com/@some',
      'https://www.youtube.com/playlist?list=PL2',
    ])
  })

  it('does not follow references from other sites, listing them for the allow-list to judge', async () => {
    const fake = await standIn('embeds', {
      'blog.example': {
        stdout: {
          _type: 'playlist',
          id: 'post',
          title: 'A post',
          webpage_url: 'https://blog.example/post',
          entries: [
            { _type: 'url_transparent', ie_key: 'Youtube', id: 'aaaaaaaaaaa', url: watch('aaaaaaaaaaa') },
            { _type: 'url', ie_key: 'Vimeo', id: '12345', url: 'https://vimeo.com/12345' },
            { _type: 'url', ie_key: 'Generic', url: 'http://10.0.0.1/feed.xml' },
          ],
        },
      },
    })
    const list = await listVideos('https://blog.example/post', { binary: fake.binary, egress: NO_HOSTS })
    expect(list.videos).toEqual([
      { videoId: 'aaaaaaaaaaa', url: watch('aaaaaaaaaaa') },
      { videoId: '12345', url: 'https://vimeo.com/12345' },
    ])
    expect(await fake.calls()).toHaveLength(1)
  })

  it('lists a single YouTube video as kind video, with its metadata', async () => {
    const fake = await standIn('single', {
      'v=aaaaaaaaaaa': {
        stdout: {
          id: 'aaaaaaaaaaa',
          title: 'A talk',
          channel: 'Some Channel',
          channel_id: CHANNEL_ID,
          duration: 754,
          upload_date: '20240506',
          language: 'en',
          webpage_url: watch('aaaaaaaaaaa'),
          subtitles: {},
          automatic_captions: {},
          _type: 'video',
        },
      },
    })
    expect(await listVideos(`${watch('aaaaaaaaaaa')}&t=5s`, { binary: fake.binary, egress: NO_HOSTS })).toEqual({
      kind: 'video',
      title: 'A talk',
      channelId: CHANNEL_ID,
      videos: [
        {
          videoId: 'aaaaaaaaaaa',
          url: watch('aaaaaaaaaaa'),
          title: 'A talk',
          channelId: CHANNEL_ID,
          channel: 'Some Channel',
          durationSeconds: 754,
          publishedAt: '2024-05-06T00:00:00.000Z',
        },
      ],
    })
  })
})

describe('videoInfo on YouTube-shaped output', () => {
  it('reads language and both kinds of caption track, asking for just the video of a watch?v=…&list=… URL', async () => {
    const fake = await standIn('info', {
      'v=aaaaaaaaaaa': {
        stdout: {
          id: 'aaaaaaaaaaa',
          title: 'A talk',
          language: 'de',
          webpage_url: watch('aaaaaaaaaaa'),
          subtitles: {
            de: [{ ext: 'vtt', url: 'https://yt.test/de.vtt', name: 'German' }],
            live_chat: [{ ext: 'json', url: 'https://yt.test/chat' }],
          },
          automatic_captions: {
            de: [
              { ext: 'json3', url: 'https://yt.test/a.json3' },
              { ext: 'vtt', url: 'https://yt.test/a.vtt' },
            ],
            en: [{ ext: 'vtt' }],
          },
        },
      },
    })
    const info = await videoInfo(`${watch('aaaaaaaaaaa')}&list=PL1`, undefined, {
      binary: fake.binary,
      egress: NO_HOSTS,
    })
    expect(info).toMatchObject({
      videoId: 'aaaaaaaaaaa',
      url: watch('aaaaaaaaaaa'),
      language: 'de',
      subtitles: {
        de: [{ ext: 'vtt', url: 'https://yt.test/de.vtt', name: 'German' }],
        live_chat: [{ ext: 'json', url: 'https://yt.test/chat' }],
      },
      automaticCaptions: {
        de: [
          { ext: 'json3', url: 'https://yt.test/a.json3' },
          { ext: 'vtt', url: 'https://yt.test/a.vtt' },
        ],
      }, // formats without a URL are left out
    })
    expect((await fake.calls())[0]).toEqual([
      '--dump-single-json',
      '--no-playlist',
      ...GUARD_FLAGS,
      '--',
      `${watch('aaaaaaaaaaa')}&list=PL1`,
    ])
  })

  it('classifies what yt-dlp says on failure', async () => {
    const fake = await standIn('failures', {
      private: {
        stderr:
          "WARNING: x\nERROR: [youtube] ppppppppppp: Private video. Sign in if you've been granted access to this video\n",
        exitCode: 1,
        stdout: null,
      },
      bot: {
        stderr:
          "ERROR: [youtube] bbbbbbbbbbb: Sign in to confirm you're not a bot. This helps protect our community.\n",
        exitCode: 1,
      },
      nulljson: { stdout: null },
      garbage: { stderr: '' },
    })
    const opts = { binary: fake.binary, egress: NO_HOSTS }
    await expect(videoInfo(watch('private0000'), undefined, opts)).rejects.toThrow(VideoUnavailableError)
    await expect(videoInfo(watch('private0000'), undefined, opts)).rejects.toThrow(
      /: \[youtube\] ppppppppppp: Private video\. Sign in/,
    )
    await expect(videoInfo(watch('bot00000000'), undefined, opts)).rejects.toThrow(ExtractionError)
    await expect(videoInfo('https://x.test/nulljson', undefined, opts)).rejects.toThrow(/found no information/)
    await expect(videoInfo('https://x.test/garbage', undefined, opts)).rejects.toThrow(ExtractionError)
  })

  it('kills yt-dlp when it runs past the timeout', async () => {
    const fake = await standIn('slow', { slow: { sleep: 30 } })
    const started = Date.now()
    const error = await listVideos('https://x.test/slow', {
      binary: fake.binary,
      timeoutMs: 300,
      egress: NO_HOSTS,
    }).catch((caught: unknown) => caught)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(error).toBeInstanceOf(ExtractionError)
    expect((error as Error).message).toMatch(
      /timed out after 0\.3 s trying to read https:\/\/x\.test\/slow and was stopped/,
    )
    const pid = await fake.pid()
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/)
  })

  it('says how to fix a missing yt-dlp binary', async () => {
    await expect(
      listVideos('https://x.test/', { binary: join(dir, 'no-such-yt-dlp'), egress: NO_HOSTS }),
    ).rejects.toThrow(/YOUTUBE_RAG__TOOLS__YTDLP_PATH/)
  })
})
