import { createRoute, type RouteHandler } from '@hono/zod-openapi'
import { ApiError } from '@ytrag/function'
import { checkIngestUrl } from '@ytrag/youtube'
import type { ApiEnv } from '../http/index.ts'
import { jsonAnswer, jsonBody } from '../schemas/common.ts'
import { bodyErrors, errorAnswer } from '../schemas/error.ts'
import { ingestAccepted, ingestRequest } from '../schemas/job.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/ingest',
  operationId: 'ingest',
  summary: 'Ingest a video, playlist or channel',
  description:
    'Any form of a YouTube video URL (youtu.be/ID, /shorts/ID, /live/ID, /embed/ID, /v/ID, m. and music. hosts, si= and other share parameters, t=) is read as https://www.youtube.com/watch?v=ID, which the job gives back as its url. A video opened inside a playlist (watch?v=ID&list=…) is ingested alone unless playlist is true.',
  request: { body: jsonBody(ingestRequest) },
  responses: {
    202: {
      ...jsonAnswer(ingestAccepted, 'job accepted: follow it at Location (/v1/jobs/{jobId})'),
      headers: { Location: { schema: { type: 'string' } } },
    },
    ...bodyErrors,
    400: errorAnswer(
      'a body that does not fit, or a URL refused: invalid_url, unsupported_scheme, host_not_allowed, private_address',
    ),
    503: errorAnswer('the event broker did not take the request; nothing was started (broker_unavailable)'),
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { stores, config, emit, logger } = c.var.context
  const body = c.req.valid('json')
  const checked = await checkIngestUrl(body.url, {
    allowedHosts: config.ingest.allowedHosts,
    ...(body.playlist ? { playlist: true } : {}),
  })
  if (!checked.ok) throw new ApiError(400, checked.code, checked.message)

  const jobId = crypto.randomUUID()
  // The canonical URL from here on: youtu.be/ID, /shorts/ID and watch?v=ID&si=… are one video.
  const url = checked.url.toString()
  const force = body.force ?? false
  const job = await stores.documents.createJob({
    jobId,
    url,
    force,
    ...(body.language ? { language: body.language } : {}),
  })
  try {
    await emit('ingest.requested', jobId, {
      jobId,
      url,
      force,
      ...(body.speechToText ? { speechToText: true } : {}),
      ...(body.language ? { language: body.language } : {}),
    })
  } catch (error) {
    logger.error({ err: error, jobId }, 'could not hand the ingest request to the broker')
    await stores.documents.failJob(jobId, `the event broker did not accept the request: ${(error as Error).message}`)
    throw new ApiError(503, 'broker_unavailable', 'the event broker is unavailable; the job was not started, try again')
  }
  return c.json({ jobId, status: job.status, url }, 202, { Location: `/v1/jobs/${jobId}` })
}
