import type { OpenAPIHono } from '@hono/zod-openapi'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { ApiEnv } from '../http/index.ts'

/** The OpenAPI document's own fields; the paths and schemas come from the routes. */
const documentConfig: Parameters<OpenAPIHono['getOpenAPI31Document']>[0] = {
  openapi: '3.1.0',
  info: {
    title: 'youtube-rag',
    version: '0.1.0',
    description: 'Questions over YouTube videos, answered with timestamped citations.',
  },
  // A key is needed only when the server has API__KEYS set; `{}` says so.
  security: [{ bearer: [] }, { apiKey: [] }, {}],
}

/** The docs UI's package: served from this server (no CDN), read only when /docs is asked for. */
const SWAGGER_UI = 'swagger-ui-dist'
const DOCS_ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const
type DocsAsset = keyof typeof DOCS_ASSETS

const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>youtube-rag API</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true })</script>
</body></html>`

/**
 * `GET /openapi.json`, generated from the routes' schemas on its first request (a start-up does
 * not wait for it), and `GET /docs`, Swagger UI over it, its files read on their first request.
 */
export function documentRoutes(app: OpenAPIHono<ApiEnv>) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'an API key: Authorization: Bearer KEY',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
  })
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined
  app.get('/openapi.json', (c) => {
    document ??= app.getOpenAPI31Document(documentConfig)
    return c.json(document)
  })

  const assets = new Map<DocsAsset, Promise<string>>()
  const asset = (name: DocsAsset) => {
    let read = assets.get(name)
    if (!read) {
      const dir = dirname(createRequire(import.meta.url).resolve(`${SWAGGER_UI}/package.json`))
      read = readFile(join(dir, name), 'utf8')
      assets.set(name, read)
    }
    return read
  }
  app.get('/docs', (c) => c.html(docsPage))
  for (const name of Object.keys(DOCS_ASSETS) as DocsAsset[]) {
    app.get(`/docs/${name}`, async (c) =>
      c.body(await asset(name), 200, { 'content-type': DOCS_ASSETS[name], 'cache-control': 'public, max-age=86400' }),
    )
  }
}
