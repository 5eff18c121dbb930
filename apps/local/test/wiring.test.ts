// The Triggers under knative/ are the one source of the local wiring: the in-process broker
// routes by them, so a Trigger taken out of the manifests stops local ingestion at that step.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startFixtureServer, type FixtureServer } from '@ytrag/youtube/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalServer } from '../src/index.ts'

const manifests = resolve(import.meta.dirname, '../../../knative/base')

async function ingestAndSettle(manifestsDir: string, fixtures: FixtureServer) {
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-wiring-'))
  const server = await startLocalServer({
    env: {
      YOUTUBE_RAG__STORAGE__DIR: dir,
      YOUTUBE_RAG__SERVER__PORT: '0',
      YOUTUBE_RAG__BROKER__MANIFESTS_DIR: manifestsDir,
      YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.01',
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host,
      YOUTUBE_RAG__LOG__LEVEL: 'silent',
    },
  })
  try {
    const answer = await fetch(`${server.url}/v1/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: fixtures.url('/indexing.html') }),
    })
    const { jobId } = (await answer.json()) as { jobId: string }
    await server.broker.idle()
    const job = (await (await fetch(`${server.url}/v1/jobs/${jobId}`)).json()) as { status: string; videos: object }
    const video = await server.stores.documents.getVideo('indexing-1')
    return { job, video, stats: server.broker.stats() }
  } finally {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('local wiring from knative/', () => {
  let fixtures: FixtureServer
  let trimmed: string
  beforeAll(async () => {
    fixtures = await startFixtureServer()
    trimmed = mkdtempSync(join(tmpdir(), 'ytrag-knative-'))
    cpSync(manifests, trimmed, { recursive: true })
    const triggers = readFileSync(join(trimmed, 'triggers.yaml'), 'utf8').split(/^---$/m)
    const kept = triggers.filter((document) => !/name: download-video-discovered\b/.test(document))
    expect(kept.length).toBe(triggers.length - 1)
    writeFileSync(join(trimmed, 'triggers.yaml'), kept.join('---'))
  })
  afterAll(async () => {
    await fixtures.close()
    rmSync(trimmed, { recursive: true, force: true })
  })

  it('ingests a video with the manifests as they are', async () => {
    const { job, video, stats } = await ingestAndSettle(manifests, fixtures)
    expect(job).toMatchObject({ status: 'succeeded', videos: { total: 1, indexed: 1, failed: 0 } })
    expect(video?.status).toBe('indexed')
    expect(stats.deadLettered).toBe(0)
  })

  it('stops after discovery when the Trigger for video.discovered is removed', async () => {
    const { job, video, stats } = await ingestAndSettle(trimmed, fixtures)
    expect(job).toMatchObject({ status: 'running', videos: { total: 1, indexed: 0, failed: 0 } })
    expect(video?.status).toBe('queued')
    expect(video?.stages.download.status).toBe('pending')
    expect(stats.dropped).toBeGreaterThanOrEqual(1)
  })
})
