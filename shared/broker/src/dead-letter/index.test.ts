import { CloudEvent } from 'cloudevents'
import { describe, expect, it } from 'vitest'
import { readDeadLetterInfo } from './index.ts'

const base = {
  type: 'io.youtube-rag.video.discovered.v1',
  source: '/functions/discover',
  subject: 'v1',
  data: { videoId: 'v1' },
}

describe('readDeadLetterInfo', () => {
  it('reads what the cluster Broker adds: the subscriber URL, the status and the base64 body', () => {
    const event = new CloudEvent({
      ...base,
      knativeerrordest: 'http://download.youtube-rag.svc.cluster.local',
      knativeerrorcode: '500',
      knativeerrordata: Buffer.from('yt-dlp: exit 1').toString('base64'),
    })
    expect(readDeadLetterInfo(event)).toEqual({
      destination: 'http://download.youtube-rag.svc.cluster.local',
      service: 'download',
      code: 500,
      data: 'yt-dlp: exit 1',
    })
  })

  it('leaves out what is absent, and keeps a value that is not base64 as it is', () => {
    const event = new CloudEvent({ ...base, knativeerrordest: 'http://api.local/', knativeerrordata: 'plain text!' })
    expect(readDeadLetterInfo(event)).toEqual({ destination: 'http://api.local/', service: 'api', data: 'plain text!' })
  })

  it('is undefined for an event that did not come through a dead-letter sink', () => {
    expect(readDeadLetterInfo(new CloudEvent(base))).toBeUndefined()
  })
})
