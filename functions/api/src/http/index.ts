import type { Hook } from '@hono/zod-openapi'
import { ApiError, errorBody, toApiError, type FunctionContext } from '@ytrag/function'
import { InvalidCursorError } from '@ytrag/stores'
import type { Env, ErrorHandler, NotFoundHandler } from 'hono'

/** What every route's handler reads from `c.var.context`: the function's stores, config, providers, logger and emit. */
export interface ApiEnv extends Env {
  Variables: { context: FunctionContext }
}

/**
 * The one place a request is checked against its route's schemas: a body, query or path that
 * does not fit is a 400 `invalid_request` whose message names each field and what is wrong.
 */
export const validationHook: Hook<unknown, ApiEnv, string, unknown> = (result) => {
  if (result.success) return
  const { issues } = result.error as { issues: { path: PropertyKey[]; message: string }[] }
  const where = result.target === 'json' ? 'body' : result.target
  throw new ApiError(
    400,
    'invalid_request',
    issues.map((issue) => `${issue.path.map(String).join('.') || where}: ${issue.message}`).join('; '),
  )
}

/**
 * Every error as `{error:{code,message}}`: an `ApiError` as it is; a cursor the server never
 * issued as the client's mistake; Hono's own `HTTPException`s by their status; anything else a
 * logged 500 that tells nothing of the server's insides.
 */
export const onApiError =
  (logger: FunctionContext['logger']): ErrorHandler =>
  (error, c) => {
    // A cursor is the client's to keep, not to edit: one this server never issued is the client's mistake.
    if (error instanceof InvalidCursorError) {
      return new ApiError(
        400,
        'invalid_cursor',
        `${error.message}: pass back the nextCursor of a previous page unchanged`,
      ).getResponse()
    }
    const answer = toApiError(error)
    if (answer.status >= 500 && answer.code === 'internal_error')
      logger.error({ err: error, path: c.req.path }, 'request failed')
    return answer.getResponse()
  }

export const notFound: NotFoundHandler = (c) =>
  c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path}`), 404)
