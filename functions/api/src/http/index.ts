import type { ErrorCode } from '@ytrag/function'
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { z } from 'zod'

/** An error the API answers with `{error:{code,message}}` and its status. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** The body of every error answer. */
export const errorBody = (code: ErrorCode, message: string) => ({ error: { code, message } })

/**
 * Reads a JSON body and validates it; malformed JSON and a body that does not fit are 400s
 * that say what is wrong.
 *
 * @example
 * ```ts
 * const { query } = await readBody(c, searchRequest)
 * ```
 */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown
  const text = await c.req.text()
  try {
    body = text.trim() === '' ? {} : JSON.parse(text)
  } catch {
    throw new ApiError(400, 'invalid_json', 'the request body is not valid JSON')
  }
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
    throw new ApiError(400, 'invalid_request', problems.join('; '))
  }
  return parsed.data
}
