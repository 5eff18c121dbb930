// These run the real yt-dlp against a loopback fixture site (yt-dlp's generic extractor reads
// `<video>` and `<track>` elements); each yt-dlp run takes about a second.
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CHAPTERED_VIDEO,
  loadCaptionFixture,
  SAMPLE_VIDEOS,
  startFixtureServer,
  type FixtureServer,
} from '../fixtures/index.ts'
import {
  chooseCaptionTrack,
  createYtDlp,
  downloadCaptions,
  ExtractionError,
  listVideos,
  VideoUnavailableError,
  videoInfo,
  videoInfoFromListing,
  type VideoInfo,
} from './index.ts'

/** The text of each cue, markup and timings left out, so VTT files compare by what they say. */
function cueTexts(vtt: string): string[] {
  return vtt
    .split(/\r?\n\r?\n/)
    .filter((block) => block.includes('-->'))
    .map((block) =>
      block
        .split(/\r?\n/)
        .slice(block.split(/\r?\n/).findIndex((line) => line.includes('-->')) + 1)
        .join(' ')
        .replace(/<[^>]*>/g, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
}

const SRT =
  '1\n00:00:01,000 --> 00:00:02,500\nBonjour tout le monde\n\n2\n00:00:02,500 --> 00:00:04,000\nVoici une piste SRT\n'

let site: FixtureServer
let work: string
/** yt-dlp's requests go through the egress guard, which lets the fixture site through. */
const guard = () => ({ egress: { allowedHosts: [site.host] } })

beforeAll(async () => {
  site = await startFixtureServer({
    videos: [...SAMPLE_VIDEOS, CHAPTERED_VIDEO],
    pages: [
      { path: '/chapters.html', title: 'Indexes in chapters', videos: ['chapters'] },
      {
        path: '/bicycle.html',
        title: 'A short history of the bicycle',
        videos: ['bicycle'],
        lastModified: new Date('2024-05-06T07:08:09Z'),
      },
      { path: '/three.html', title: 'Three talks', videos: ['indexing', 'sourdough', 'bicycle'] },
      { path: '/silent.html', title: 'A clip without captions', videos: ['silent'] },
      { path: '/empty.html', title: 'Nothing to watch', videos: [] },
      { path: '/private.html', status: 403, body: 'Private video' },
      { path: '/subs.srt', body: SRT },
    ],
  })
  work = await mkdtemp(join(tmpdir(), 'ytrag-ytdlp-test-'))
})

afterAll(async () => {
  await site?.close()
  if (work) await rm(work, { recursive: true, force: true })
})

describe('listVideos', () => {
  it('lists the one video of a single-video page, with the page to read it from', async () => {
    const list = await listVideos(site.url('/bicycle.html'), guard())
    expect(list).toEqual({
      kind: 'video',
      title: 'A short history of the bicycle (1)',
      videos: [
        {
          videoId: 'bicycle-1',
          url: site.url('/bicycle.html'),
          title: 'A short history of the bicycle (1)',
          publishedAt: '2024-05-06T07:08:09.000Z', // the generic extractor's date is Last-Modified
        },
      ],
    })
  })

  it('lists a page of three videos as a playlist of the page plus an item number each', async () => {
    const list = await listVideos(site.url('/three.html'), guard())
    expect(list).toEqual({
      kind: 'playlist',
      title: 'Three talks',
      videos: [1, 2, 3].map((n) => ({
        videoId: `three-${n}`,
        url: site.url('/three.html'),
        playlistItem: n,
        title: `Three talks (${n})`,
        listed: expect.objectContaining({ id: `three-${n}` }),
      })),
    })
  })

  it('gives each video of such a page as the listing extracted it: the same info as reading the page again for it', async () => {
    const list = await listVideos(site.url('/three.html'), guard())
    const second = list.videos[1]!
    const fromListing = videoInfoFromListing(second.listed!, second.url, 2, 'three-2')
    const fromPage = await videoInfo(second.url, 2, { ...guard(), videoId: 'three-2' })
    const { raw: _listedRaw, ...listedInfo } = fromListing!
    const { raw: _pageRaw, ...pageInfo } = fromPage
    expect(listedInfo).toEqual(pageInfo)
    expect(Object.keys(listedInfo.subtitles).length + Object.keys(listedInfo.automaticCaptions).length).toBeGreaterThan(
      0,
    )
    // Not a stand-in for another video, nor for a reference to a page.
    expect(videoInfoFromListing(second.listed!, second.url, 2, 'three-3')).toBeUndefined()
    expect(
      videoInfoFromListing({ _type: 'url', id: 'three-2', url: second.url }, second.url, 2, 'three-2'),
    ).toBeUndefined()
  })

  it('reports a page that answers 404 as unavailable', async () => {
    const error = await listVideos(site.url('/missing.html'), guard()).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(VideoUnavailableError)
    expect((error as Error).message).toMatch(/HTTP Error 404/)
    expect((error as Error).message).not.toMatch(/please report/)
  })

  it('reports a page without any video as unavailable ("Unsupported URL")', async () => {
    await expect(listVideos(site.url('/empty.html'), guard())).rejects.toThrow(VideoUnavailableError)
    await expect(listVideos(site.url('/empty.html'), guard())).rejects.toThrow(/Unsupported URL/)
  })

  it('reports a 403 as an ExtractionError: yt-dlp does not show the page saying "Private video"', async () => {
    const error = await listVideos(site.url('/private.html'), guard()).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ExtractionError)
    expect((error as ExtractionError).detail).toMatch(/HTTP Error 403: Forbidden/)
  })

  it('reports a refused connection as an ExtractionError, which may pass', async () => {
    // Allowed, so the egress proxy tries it and answers 502 with what the connection said.
    const error = await listVideos('http://127.0.0.1:1/nothing.html', {
      egress: { allowedHosts: ['127.0.0.1:1'] },
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ExtractionError)
    expect((error as Error).message).toMatch(/HTTP Error 502: upstream 127\.0\.0\.1:1 failed: connect ECONNREFUSED/)
  })
})

describe('videoInfo', () => {
  it('reads one video of a multi-video page by its item number', async () => {
    const info = await videoInfo(site.url('/three.html'), 3, guard())
    expect(info).toMatchObject({
      videoId: 'three-3',
      url: site.url('/three.html'),
      playlistItem: 3,
      title: 'Three talks (3)',
      subtitles: { en: [{ ext: 'vtt', url: site.url('/captions/bicycle.en.vtt') }] },
      automaticCaptions: {},
    })
    expect(info.raw.id).toBe('three-3')
    expect(chooseCaptionTrack(info)).toEqual({ language: 'en', source: 'captions', choice: 'english' })
  })

  it('reads a single-video page without an item number', async () => {
    const info = await videoInfo(site.url('/bicycle.html'), undefined, guard())
    expect(info).toMatchObject({
      videoId: 'bicycle-1',
      url: site.url('/bicycle.html'),
      publishedAt: '2024-05-06T07:08:09.000Z',
    })
    expect(info.playlistItem).toBeUndefined()
  })

  it('reads the chapters a page publishes in JSON-LD, with the captions of its player page', async () => {
    const info = await videoInfo(site.url('/chapters.html'), undefined, guard())
    expect(info).toMatchObject({
      videoId: 'chapters-1',
      url: site.url('/chapters.html'),
      durationSeconds: 160,
      chapters: CHAPTERED_VIDEO.chapters,
    })
    expect(chooseCaptionTrack(info)).toEqual({ language: 'en', source: 'captions', choice: 'english' })
    const listed = await listVideos(site.url('/chapters.html'), guard())
    expect(listed.videos.map((video) => video.videoId)).toEqual(['chapters-1'])
    const vtt = await downloadCaptions(info, { language: 'en', source: 'captions' }, guard())
    expect(cueTexts(vtt)).toEqual(cueTexts(loadCaptionFixture('database-indexing')))
  })

  it('finds no caption track for a video without captions', async () => {
    const info = await videoInfo(site.url('/silent.html'), undefined, guard())
    expect(info.subtitles).toEqual({})
    expect(chooseCaptionTrack(info)).toBeUndefined()
  })

  it('refuses to guess which video of a multi-video page is meant, or an item that is not there', async () => {
    await expect(videoInfo(site.url('/three.html'), undefined, guard())).rejects.toThrow(
      /holds 3 videos; pass playlistItem/,
    )
    await expect(videoInfo(site.url('/three.html'), 9, guard())).rejects.toThrow(VideoUnavailableError)
  })

  it('reports a 404 page as unavailable', async () => {
    await expect(videoInfo(site.url('/missing.html'), undefined, guard())).rejects.toThrow(VideoUnavailableError)
  })
})

describe('downloadCaptions', () => {
  it("gives the caption file of a page's video, downloaded by yt-dlp", async () => {
    const ytdlp = createYtDlp({ tmpDir: work, ...guard() })
    const info = await ytdlp.videoInfo(site.url('/three.html'), 1)
    const before = site.requests.length
    const vtt = await ytdlp.downloadCaptions(info, { language: 'en', source: 'captions' })
    expect(vtt.startsWith('WEBVTT')).toBe(true)
    expect(cueTexts(vtt)).toEqual(cueTexts(loadCaptionFixture('database-indexing')))
    expect(site.requests.slice(before)).toEqual(['/captions/indexing.en.vtt'])
    expect(await readdir(work)).toEqual([]) // its temporary folder is gone
  })

  it('downloads auto-captions with --write-auto-subs', async () => {
    const page = await videoInfo(site.url('/three.html'), 2, guard())
    // The generic extractor has no auto-captions; present the track as one, as YouTube would.
    const { subtitles, ...rest } = page.raw
    const info: VideoInfo = {
      ...page,
      subtitles: {},
      automaticCaptions: page.subtitles,
      raw: { ...rest, subtitles: {}, automatic_captions: subtitles },
    }
    const track = chooseCaptionTrack(info)
    expect(track).toEqual({ language: 'en', source: 'auto-captions', choice: 'english' })
    const vtt = await downloadCaptions(info, track!, guard())
    expect(cueTexts(vtt)).toEqual(cueTexts(loadCaptionFixture('sourdough')))
    expect(vtt).toContain('<c> everyone</c>')
  })

  it('converts a track offered only as SRT into WebVTT (with ffmpeg)', async () => {
    const page = await videoInfo(site.url('/silent.html'), undefined, guard())
    const fr = [{ ext: 'srt', url: site.url('/subs.srt') }]
    const info: VideoInfo = { ...page, subtitles: { fr }, raw: { ...page.raw, subtitles: { fr } } }
    const vtt = await downloadCaptions(info, chooseCaptionTrack(info, 'fr')!, guard())
    expect(vtt.startsWith('WEBVTT')).toBe(true)
    expect(cueTexts(vtt)).toEqual(['Bonjour tout le monde', 'Voici une piste SRT'])
  })

  it('reports a caption file that is gone, naming the track and the video', async () => {
    const page = await videoInfo(site.url('/silent.html'), undefined, guard())
    const de = [{ ext: 'vtt', url: site.url('/captions/nothing.de.vtt') }]
    const info: VideoInfo = { ...page, subtitles: { de }, raw: { ...page.raw, subtitles: { de } } }
    const error = await downloadCaptions(
      info,
      { language: 'de', source: 'captions' },
      { tmpDir: work, ...guard() },
    ).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(VideoUnavailableError)
    expect((error as Error).message).toMatch(
      /could not download the de captions of .*silent\.html: Unable to download video subtitles for 'de': HTTP Error 404/,
    )
    expect(await readdir(work)).toEqual([])
  })

  it('reports a track the video does not have', async () => {
    const info = await videoInfo(site.url('/bicycle.html'), undefined, guard())
    await expect(downloadCaptions(info, { language: 'xx', source: 'captions' }, guard())).rejects.toThrow(
      /wrote no xx captions/,
    )
  })
})
