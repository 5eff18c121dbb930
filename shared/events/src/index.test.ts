import { HTTP } from 'cloudevents'
import { describe, expect, it } from 'vitest'
import {
  createEvent,
  eventFromRequest,
  eventNameOf,
  eventType,
  InvalidEventError,
  requestForEvent,
  validateEvent,
} from './index.ts'

const data = { jobId: 'j1', videoId: 'v1', chunkCount: 3 }

describe('the event catalog', () => {
  it('names types io.youtube-rag.<name>.v1 and reads them back', () => {
    expect(eventType('video.indexed')).toBe('io.youtube-rag.video.indexed.v1')
    expect(eventNameOf('io.youtube-rag.video.indexed.v1')).toBe('video.indexed')
    expect(eventNameOf('io.youtube-rag.nope.v1')).toBeUndefined()
    expect(eventNameOf('dev.knative.sources.ping')).toBeUndefined()
  })

  it('builds events with source /functions/<name> and the subject, refusing bad data', () => {
    const event = createEvent('video.indexed', { function: 'indexer', subject: 'v1', data })
    expect(event).toMatchObject({
      type: 'io.youtube-rag.video.indexed.v1',
      source: '/functions/indexer',
      subject: 'v1',
      specversion: '1.0',
    })
    expect(() =>
      createEvent('video.indexed', { function: 'indexer', subject: 'v1', data: { ...data, chunkCount: -1 } }),
    ).toThrow()
  })

  for (const mode of ['binary', 'structured'] as const) {
    it(`round-trips through an HTTP request in ${mode} mode`, async () => {
      const event = createEvent('video.indexed', {
        function: 'indexer',
        subject: 'v1',
        data,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      })
      const request = requestForEvent('http://sink.local/', event, mode)
      if (mode === 'binary') expect(request.headers.get('ce-type')).toBe('io.youtube-rag.video.indexed.v1')
      else expect(request.headers.get('content-type')).toMatch(/application\/cloudevents\+json/)
      const received = validateEvent(await eventFromRequest(request))
      expect(received).toMatchObject({
        id: event.id,
        name: 'video.indexed',
        subject: 'v1',
        data,
        traceparent: event.traceparent,
      })
    })
  }

  it('refuses malformed messages and data that does not fit the schema', async () => {
    await expect(eventFromRequest(new Request('http://x/', { method: 'POST', body: 'hello' }))).rejects.toThrow(
      InvalidEventError,
    )
    const message = HTTP.binary(
      createEvent('video.indexed', { function: 'indexer', subject: 'v1', data }).cloneWith(
        { data: { jobId: 'j1' } },
        false,
      ),
    )
    const request = new Request('http://x/', {
      method: 'POST',
      headers: message.headers as Record<string, string>,
      body: message.body as string,
    })
    await expect(eventFromRequest(request).then(validateEvent)).rejects.toThrow(/videoId/)
  })
})
