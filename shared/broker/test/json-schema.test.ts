import { describe, expect, it } from 'vitest'
import { validateJsonSchema, type JsonSchema } from './json-schema.ts'

const schema: JsonSchema = {
  description: 'annotations are ignored',
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', format: 'anything' },
    retry: { type: 'integer' },
    ratio: { type: 'number' },
    policy: { type: 'string', enum: ['exponential', 'linear'] },
    tags: { type: 'array', items: { type: 'string' } },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    ref: { type: 'object', properties: { name: { type: 'string' } }, additionalProperties: false },
    open: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  },
}

describe('validateJsonSchema', () => {
  it('accepts a value that fits', () => {
    const value = {
      name: 'a',
      retry: 3,
      ratio: 0.5,
      policy: 'linear',
      tags: ['x'],
      labels: { a: 'b' },
      ref: { name: 'r' },
      open: { any: 1 },
      extra: true,
    }
    expect(validateJsonSchema(value, schema)).toEqual([])
  })

  it('reports each kind of problem with its path', () => {
    expect(validateJsonSchema({}, schema)).toEqual(['$: missing required property "name"'])
    expect(validateJsonSchema('x', schema)).toEqual(['$: expected object, got string'])
    expect(validateJsonSchema({ name: 'a', retry: 1.5 }, schema)).toEqual(['$.retry: expected integer, got number'])
    expect(validateJsonSchema({ name: 'a', policy: 'random' }, schema)).toEqual([
      '$.policy: "random" is not one of ["exponential","linear"]',
    ])
    expect(validateJsonSchema({ name: 'a', tags: ['x', 2] }, schema)).toEqual([
      '$.tags[1]: expected string, got integer',
    ])
    expect(validateJsonSchema({ name: 'a', labels: { a: 1 } }, schema)).toEqual([
      '$.labels.a: expected string, got integer',
    ])
    expect(validateJsonSchema({ name: 'a', ref: { nmae: 'typo' } }, schema)).toEqual(['$.ref: unknown property "nmae"'])
  })

  it('refuses keywords it does not check rather than passing them silently', () => {
    expect(() => validateJsonSchema('x', { type: 'string', pattern: '^a' })).toThrow(
      /unsupported JSON Schema keyword "pattern"/,
    )
  })
})
