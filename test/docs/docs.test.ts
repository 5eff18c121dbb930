// The repository's docs against the code: every config key, every event type and each of its
// data fields, every npm script, every API route, and the links between the docs. A key or type
// added without its documentation fails here, and so does a doc naming a command that is gone.
import { configSchema } from '@ytrag/config'
import { eventSchemas } from '@ytrag/events'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { FunctionContext } from '@ytrag/function'
import { createApiApp } from '../../functions/api/src/app.ts'

const root = resolve(import.meta.dirname, '../..')
const read = (path: string) => readFileSync(join(root, path), 'utf8')
const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  'docs/architecture.md',
  'docs/configuration.md',
  'docs/images.md',
  'docs/web.md',
]
const envKey = (key: string) => key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()

describe('the docs agree with the code', () => {
  it('name every config key in docs/configuration.md', () => {
    const page = read('docs/configuration.md')
    const keys = Object.entries(configSchema.shape).flatMap(([section, schema]) =>
      Object.keys(schema.shape).map((key) => `${envKey(section)}__${envKey(key)}`),
    )
    expect(keys.length).toBeGreaterThan(50)
    expect(keys.filter((key) => !page.includes(`\`${key}\``))).toEqual([])
  })

  it('describe every event type, with each field of its data, in docs/architecture.md', () => {
    const page = read('docs/architecture.md')
    const rows = new Map(
      page.split('\n').flatMap((line) => {
        const name = /^\| `([a-z]+(?:\.[a-z]+)+)` \|/.exec(line)?.[1]
        return name ? [[name, line] as const] : []
      }),
    )
    const missing: string[] = []
    for (const [name, schema] of Object.entries(eventSchemas)) {
      const row = rows.get(name)
      if (!row) {
        missing.push(name)
        continue
      }
      const fields = Object.keys((schema.unwrap() as unknown as { shape: object }).shape)
      for (const field of fields) if (!new RegExp(`\`${field}\\??\``).test(row)) missing.push(`${name}.${field}`)
    }
    expect(missing).toEqual([])
    // And no row for an event that is gone.
    expect([...rows.keys()].filter((name) => !(name in eventSchemas))).toEqual([])
  })

  it('name only npm scripts that exist, and every one of them', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts)
    const text = DOCS.map(read).join('\n')
    const named = new Set([...text.matchAll(/npm run ([a-z:-]+)/g)].map((match) => match[1]!))
    expect([...named].filter((name) => !scripts.includes(name))).toEqual([])
    // `start` and `test` are `npm start` and `npm test`; `serve` and `cli` are what they run.
    const mentioned = (name: string) =>
      named.has(name) || text.includes(`npm ${name}`) || ['serve', 'cli', 'test:run', 'typecheck'].includes(name)
    expect(scripts.filter((name) => !mentioned(name))).toEqual([])
  })

  it('list every API route in the README and docs/architecture.md', () => {
    const document = createApiApp({} as FunctionContext).getOpenAPI31Document({
      openapi: '3.1.0',
      info: { title: 'youtube-rag', version: '0' },
    })
    const routes = Object.entries(document.paths ?? {}).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(routes.length).toBeGreaterThan(10)
    // Parameters are spelled `{jobId}` or `:jobId` (or `:id`); any name will do.
    const normalize = (text: string) => text.replace(/\{\w+\}|:\w+/g, ':param')
    for (const doc of ['README.md', 'docs/architecture.md']) {
      const text = normalize(read(doc))
      const listed = (route: string) => {
        const [method, path] = normalize(route).split(' ') as [string, string]
        return text
          .split('\n')
          .some(
            (line) =>
              line.includes(path) &&
              line.includes(method) &&
              new RegExp(`${path.replaceAll('/', '\\/')}(?![\\w/])`).test(line),
          )
      }
      expect(
        routes.filter((route) => !listed(route)),
        doc,
      ).toEqual([])
    }
  })

  it('link only to files that exist, and not outside the repository', () => {
    for (const doc of DOCS) {
      const text = read(doc)
      expect(text, doc).not.toContain('../shared/DESIGN.md')
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue
        expect(existsSync(join(root, dirname(doc), target!)), `${doc} links ${target}`).toBe(true)
      }
    }
  })
})
