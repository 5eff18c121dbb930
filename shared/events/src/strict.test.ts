// What eventFromRequest refuses that the SDK alone would take, and what it takes that the SDK refused.
import { describe, expect, it } from 'vitest'
import { createEvent, eventFromRequest, InvalidEventError, requestForEvent, validateEvent } from './index.ts'

const URL = 'http://127.0.0.1/'
const data = { jobId: 'j1', videoId: 'v1', chunkCount: 3 }
const headers = (extra: Record<string, string | undefined>) => {
  const all: Record<string, string> = {}
  for (const [key, value] of Object.entries({
    'content-type': 'application/json',
    'ce-id': 'e1',
    'ce-source': '/t',
    'ce-type': 'io.youtube-rag.video.indexed.v1',
    'ce-specversion': '1.0',
    ...extra,
  })) {
    if (value !== undefined) all[key] = value
  }
  return all
}
const binary = (extra: Record<string, string | undefined>, body = JSON.stringify(data)) =>
  new Request(URL, { method: 'POST', headers: headers(extra), body })
const structured = (event: Record<string, unknown>) =>
  new Request(URL, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify(event),
  })
const envelope = {
  id: 'e1',
  source: '/t',
  type: 'io.youtube-rag.video.indexed.v1',
  specversion: '1.0',
  datacontenttype: 'application/json',
  data,
}

describe('eventFromRequest, strictly', () => {
  it('reads the events createEvent makes, in both modes, unchanged', async () => {
    const sent = createEvent('video.indexed', { function: 'indexer', subject: 'v1', data, id: 'fixed-id' })
    for (const mode of ['binary', 'structured'] as const) {
      const received = validateEvent(await eventFromRequest(requestForEvent(URL, sent, mode)))
      expect(received).toMatchObject({ id: 'fixed-id', source: '/functions/indexer', subject: 'v1', data })
    }
  })

  it.each([
    ['binary without ce-id', binary({ 'ce-id': undefined }), /id is required/],
    ['binary without ce-source', binary({ 'ce-source': undefined }), /source is required/],
    ['binary without ce-type', binary({ 'ce-type': undefined }), /type is required/],
    ['binary with a blank id', binary({ 'ce-id': '  ' }), /id is required/],
    ['binary specversion 0.3', binary({ 'ce-specversion': '0.3' }), /specversion "0.3" is not supported/],
    ['binary specversion 9.9', binary({ 'ce-specversion': '9.9' }), /specversion "9.9"/],
    ['structured without id', structured({ ...envelope, id: undefined }), /id is required/],
    [
      'structured without source and type',
      structured({ ...envelope, source: undefined, type: undefined }),
      /source, type are required/,
    ],
    ['structured specversion 0.1', structured({ ...envelope, specversion: '0.1' }), /specversion "0.1"/],
    [
      'structured as an array',
      new Request(URL, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify([envelope]),
      }),
      /must be a JSON object/,
    ],
    [
      'a batch',
      new Request(URL, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify([envelope]),
      }),
      /batched/,
    ],
    [
      'no CloudEvent at all',
      new Request(URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
      /no ce-specversion/,
    ],
    ['binary JSON data that does not parse', binary({}, '{"jobId":'), /data is not valid JSON/],
  ])('refuses %s with InvalidEventError', async (_, request, message) => {
    const error = await eventFromRequest(request).then(
      () => undefined,
      (thrown: unknown) => thrown,
    )
    expect(error).toBeInstanceOf(InvalidEventError)
    expect((error as Error).message).toMatch(message)
  })

  it('parses JSON data with leading whitespace as JSON, in binary and structured mode', async () => {
    const spaced = await eventFromRequest(binary({}, `\n  \t${JSON.stringify(data)}`))
    expect(validateEvent(spaced).data).toEqual(data)
    const asString = await eventFromRequest(structured({ ...envelope, data: `  ${JSON.stringify(data)}` }))
    expect(validateEvent(asString).data).toEqual(data)
  })
})
