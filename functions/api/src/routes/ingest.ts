import type { FunctionContext } from '@ytrag/function'
import { checkIngestUrl } from '@ytrag/youtube'
import type { Hono } from 'hono'
import { ApiError, readBody } from '../http/index.ts'
import { ingestRequest } from './schemas.ts'

/** `POST /v1/ingest` and `GET /v1/jobs/:jobId`. */
export function ingestRoutes(app: Hono, { stores, config, emit, logger }: FunctionContext) {
  app.post('/v1/ingest', async (c) => {
    const body = await readBody(c, ingestRequest)
    const checked = await checkIngestUrl(body.url, { allowedHosts: config.ingest.allowedHosts, ...(body.playlist ? { playlist: true } : {}) })
    if (!checked.ok) throw new ApiError(400, checked.code, checked.message)

    const jobId = crypto.randomUUID()
    // The canonical URL from here on: youtu.be/ID, /shorts/ID and watch?v=ID&si=… are one video.
    const url = checked.url.toString()
    const force = body.force ?? false
    const job = await stores.documents.createJob({ jobId, url, force, ...(body.language ? { language: body.language } : {}) })
    try {
      await emit('ingest.requested', jobId, { jobId, url, force, ...(body.speechToText ? { speechToText: true } : {}), ...(body.language ? { language: body.language } : {}) })
    } catch (error) {
      logger.error({ err: error, jobId }, 'could not hand the ingest request to the broker')
      await stores.documents.failJob(jobId, `the event broker did not accept the request: ${(error as Error).message}`)
      throw new ApiError(503, 'broker_unavailable', 'the event broker is unavailable; the job was not started, try again')
    }
    return c.json({ jobId, status: job.status, url }, 202, { Location: `/v1/jobs/${jobId}` })
  })

  app.get('/v1/jobs/:jobId', async (c) => {
    const job = await stores.documents.getJob(c.req.param('jobId'))
    if (!job) throw new ApiError(404, 'job_not_found', `no job ${c.req.param('jobId')}`)
    return c.json(job)
  })
}
