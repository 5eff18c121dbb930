/**
 * A minimal JSON Schema (draft 4) validator: the subset the Knative CRD schemas in
 * ../shared/schemas use (type, required, properties, additionalProperties, items, enum).
 * Written here because ajv is not a dependency of this package. Any other keyword that
 * could reject a value makes it throw, so an unchecked rule never passes silently.
 */
export interface JsonSchema {
  type?: string | string[]
  required?: string[]
  properties?: Record<string, JsonSchema>
  additionalProperties?: boolean | JsonSchema
  items?: JsonSchema | JsonSchema[]
  enum?: unknown[]
  [keyword: string]: unknown
}

const SUPPORTED = new Set(['type', 'required', 'properties', 'additionalProperties', 'items', 'enum'])
// Annotations: they describe, they never reject.
const IGNORED = new Set(['$schema', 'id', '$id', 'title', 'description', 'default', 'format', 'example', 'examples'])

/**
 * Every way `value` breaks `schema`, as `path: problem` lines; empty when it fits.
 *
 * @example
 * ```ts
 * validateJsonSchema({ spec: { retry: 'three' } }, brokerSchema) // ['$.spec.retry: expected integer, got string']
 * ```
 */
export function validateJsonSchema(value: unknown, schema: JsonSchema, path = '$'): string[] {
  for (const keyword of Object.keys(schema)) {
    if (!SUPPORTED.has(keyword) && !IGNORED.has(keyword) && !keyword.startsWith('x-kubernetes-')) {
      throw new Error(`unsupported JSON Schema keyword "${keyword}" at ${path}`)
    }
  }
  const problems: string[] = []
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type]
    if (!types.some((type) => hasType(value, type))) {
      return [`${path}: expected ${types.join(' or ')}, got ${typeOf(value)}`]
    }
  }
  if (schema.enum && !schema.enum.some((allowed) => JSON.stringify(allowed) === JSON.stringify(value))) {
    problems.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`)
  }
  if (isObject(value)) {
    for (const key of schema.required ?? []) {
      if (!(key in value)) problems.push(`${path}: missing required property "${key}"`)
    }
    for (const [key, child] of Object.entries(value)) {
      const propertySchema = schema.properties?.[key]
      if (propertySchema) problems.push(...validateJsonSchema(child, propertySchema, `${path}.${key}`))
      else if (schema.additionalProperties === false) problems.push(`${path}: unknown property "${key}"`)
      else if (typeof schema.additionalProperties === 'object') {
        problems.push(...validateJsonSchema(child, schema.additionalProperties, `${path}.${key}`))
      }
    }
  }
  if (Array.isArray(value) && schema.items) {
    const { items } = schema
    value.forEach((item, index) => {
      const itemSchema = Array.isArray(items) ? items[index] : items
      if (itemSchema) problems.push(...validateJsonSchema(item, itemSchema, `${path}[${index}]`))
    })
  }
  return problems
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value)
    case 'array':
      return Array.isArray(value)
    case 'string':
      return typeof value === 'string'
    case 'integer':
      return Number.isInteger(value)
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'null':
      return value === null
    default:
      throw new Error(`unknown JSON Schema type "${type}"`)
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (Number.isInteger(value)) return 'integer'
  return typeof value
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
