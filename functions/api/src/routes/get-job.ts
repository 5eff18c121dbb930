import { createRoute, z, type RouteHandler } from '@hono/zod-openapi'
import { jobSchema } from '@ytrag/domain'
import { ApiError } from '@ytrag/function'
import type { ApiEnv } from '../http/index.ts'
import { jsonAnswer } from '../schemas/common.ts'
import { commonErrors, errorAnswer } from '../schemas/error.ts'

export const route = createRoute({
  method: 'get',
  path: '/v1/jobs/{jobId}',
  operationId: 'getJob',
  summary: 'A job and its progress',
  request: { params: z.object({ jobId: z.string().min(1) }) },
  responses: {
    200: jsonAnswer(jobSchema, 'the job'),
    ...commonErrors,
    404: errorAnswer('no such job (job_not_found)'),
  },
})

export const handler: RouteHandler<typeof route, ApiEnv> = async (c) => {
  const { jobId } = c.req.valid('param')
  const job = await c.var.context.stores.documents.getJob(jobId)
  if (!job) throw new ApiError(404, 'job_not_found', `no job ${jobId}`)
  return c.json(job, 200)
}
