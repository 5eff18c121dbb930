import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAllDocuments } from 'yaml'
import { parseIsoDuration } from '../duration/index.ts'

/** How a Broker (or a Trigger that overrides it) delivers: Knative's `spec.delivery`. */
export interface DeliverySpec {
  /** Retries after the first attempt (Knative's `retry`); 0 when unset, as in Knative. */
  retry: number
  backoffPolicy: 'exponential' | 'linear'
  /** `backoffDelay` in milliseconds; 0 when unset. */
  backoffDelayMs: number
  /** The name of the Service that takes events whose retries ran out. */
  deadLetterSink?: string
}

export interface BrokerSpec extends DeliverySpec {
  name: string
}

export interface TriggerSpec {
  name: string
  /** The exact `type` the Trigger filters on; absent when it takes every event. */
  type?: string
  /** The name of the Service the Trigger delivers to. */
  subscriber: string
  /** The Trigger's own delivery, which replaces the Broker's as a whole (as Knative does). */
  delivery?: DeliverySpec
}

/** A PingSource that sends its ticks to the Broker. */
export interface PingSourceSpec {
  name: string
  /** Cron, five fields, in UTC as Knative reads it unless `timezone` says otherwise. */
  schedule: string
  timezone?: string
  /** The event data, as the manifest gives it. */
  data?: string
  contentType?: string
}

/** The routes a Broker's Triggers make, as read from the Knative manifests. */
export interface BrokerWiring {
  broker: BrokerSpec
  triggers: TriggerSpec[]
  /** The schedules whose ticks the Broker receives (none when absent). */
  pingSources?: PingSourceSpec[]
  /** How long each Knative Service may take to answer one request (its `timeoutSeconds`), for those that say. */
  timeoutSeconds?: Record<string, number>
}

export interface ReadBrokerWiringOptions {
  /** Which Broker, when the manifests hold several. Default: the only one. */
  broker?: string
}

/**
 * The project's kustomize base (`knative/base`), found from this file's place in the workspace.
 *
 * @example
 * ```ts
 * const wiring = readBrokerWiring(knativeBaseDir)
 * ```
 */
export const knativeBaseDir = fileURLToPath(new URL('../../../../knative/base/', import.meta.url))

/**
 * Reads the Broker and its Triggers from a kustomization directory: the
 * `kustomization.yaml` there and every file (or directory) its `resources` list.
 * Patches and other transformers are not applied; point this at the base, whose
 * routes every overlay shares.
 *
 * @throws Error when the kustomization or the Broker is missing, or a Trigger uses
 * something the local broker cannot honour (a non-type filter, a URI subscriber).
 * @example
 * ```ts
 * const { broker, triggers } = readBrokerWiring('knative/base')
 * triggers.filter((t) => t.type === 'io.youtube-rag.video.discovered.v1') // [{ name: 'download-video-discovered', subscriber: 'download', … }]
 * ```
 */
export function readBrokerWiring(dir: string, options: ReadBrokerWiringOptions = {}): BrokerWiring {
  const objects = readKustomization(resolve(dir), new Set())
  const brokers = objects.filter((o) => isEventing(o) && o.kind === 'Broker')
  const brokerNames = brokers.map((o) => nameOf(o))
  const wanted = options.broker ?? (brokers.length === 1 ? brokerNames[0] : undefined)
  const brokerObject = brokers.find((o) => nameOf(o) === wanted)
  if (!brokerObject) {
    const found = brokerNames.length ? `found ${brokerNames.join(', ')}` : 'found none'
    const which = options.broker ? `Broker "${options.broker}"` : 'exactly one Broker'
    throw new Error(`expected ${which} in the kustomization at ${dir}, ${found}`)
  }
  const name = nameOf(brokerObject)
  const broker: BrokerSpec = { name, ...parseDelivery(spec(brokerObject).delivery, `Broker ${name}`) }

  const triggers = objects
    .filter((o) => isEventing(o) && o.kind === 'Trigger')
    .filter((o) => {
      const target = spec(o).broker
      if (typeof target !== 'string') throw new Error(`Trigger ${nameOf(o)} (${o.file}) has no spec.broker`)
      return target === name
    })
    .map(parseTrigger)
  const pingSources = objects
    .filter(
      (o) =>
        o.kind === 'PingSource' && typeof o.apiVersion === 'string' && o.apiVersion.startsWith('sources.knative.dev/'),
    )
    .filter((o) => {
      const ref = (spec(o).sink as { ref?: { kind?: unknown; name?: unknown } } | undefined)?.ref
      return ref?.kind === 'Broker' && ref.name === name
    })
    .map((o): PingSourceSpec => {
      const { schedule, timezone, data, contentType } = spec(o)
      if (typeof schedule !== 'string') throw new Error(`PingSource ${nameOf(o)} (${o.file}) has no spec.schedule`)
      return {
        name: nameOf(o),
        schedule,
        ...(typeof timezone === 'string' ? { timezone } : {}),
        ...(typeof data === 'string' ? { data } : {}),
        ...(typeof contentType === 'string' ? { contentType } : {}),
      }
    })
  // How long each function's Knative Service lets one request take; absent and 0 are left out.
  const timeoutSeconds: Record<string, number> = {}
  for (const o of objects) {
    if (o.kind !== 'Service' || typeof o.apiVersion !== 'string' || !o.apiVersion.startsWith('serving.knative.dev/'))
      continue
    const template = spec(o).template
    const podSpec = isRecord(template) && isRecord(template.spec) ? template.spec : {}
    const value = podSpec.timeoutSeconds
    if (value === undefined || value === 0) continue
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new Error(
        `Service ${nameOf(o)} (${o.file}): timeoutSeconds must be a whole number >= 0, got ${JSON.stringify(value)}`,
      )
    }
    timeoutSeconds[nameOf(o)] = value
  }
  return {
    broker,
    triggers,
    pingSources,
    ...(Object.keys(timeoutSeconds).length > 0 ? { timeoutSeconds } : {}),
  }
}

interface ManifestObject {
  apiVersion?: unknown
  kind?: unknown
  metadata?: unknown
  spec?: unknown
  /** Where it was read from, for error messages. */
  file: string
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']

function readKustomization(dir: string, seen: Set<string>): ManifestObject[] {
  if (seen.has(dir)) throw new Error(`kustomization cycle through ${dir}`)
  seen.add(dir)
  const file = KUSTOMIZATION_FILES.map((name) => join(dir, name)).find((path) => existsSync(path))
  if (!file) throw new Error(`no kustomization.yaml in ${dir}`)
  const [kustomization] = readYamlDocuments(file)
  const resources = (isRecord(kustomization) ? kustomization.resources : undefined) ?? []
  if (!Array.isArray(resources)) throw new Error(`${file}: resources must be a list`)
  return resources.flatMap((entry: unknown) => {
    if (typeof entry !== 'string') throw new Error(`${file}: resource ${JSON.stringify(entry)} is not a path`)
    // Remote bases would need a network fetch at start-up; the project keeps its own files.
    if (/^[a-z]+:\/\/|^github\.com\//.test(entry)) throw new Error(`${file}: remote resource ${entry} is not supported`)
    const path = resolve(dir, entry)
    if (!existsSync(path)) throw new Error(`${file}: resource ${entry} does not exist (${path})`)
    if (statSync(path).isDirectory()) return readKustomization(path, seen)
    return readYamlDocuments(path)
      .filter(isRecord)
      .map((object): ManifestObject => ({ ...object, file: path }))
  })
}

function readYamlDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
    const [error] = document.errors
    if (error) throw new Error(`${file}: invalid YAML: ${error.message}`)
    return document.toJS() as unknown
  })
}

function parseTrigger(object: ManifestObject): TriggerSpec {
  const name = nameOf(object)
  const where = `Trigger ${name} (${object.file})`
  const triggerSpec = spec(object)
  // The newer `filters` dialects (prefix, suffix, CESQL) have no counterpart here yet;
  // refusing them is better than routing more events than the cluster would.
  if (triggerSpec.filters !== undefined)
    throw new Error(`${where}: spec.filters is not supported, use filter.attributes.type`)
  const attributes = isRecord(triggerSpec.filter) ? triggerSpec.filter.attributes : undefined
  let type: string | undefined
  if (attributes !== undefined) {
    if (!isRecord(attributes)) throw new Error(`${where}: filter.attributes must be a map`)
    for (const [key, value] of Object.entries(attributes)) {
      if (key !== 'type') throw new Error(`${where}: filtering on "${key}" is not supported, only on type`)
      if (typeof value !== 'string' || value === '')
        throw new Error(`${where}: filter.attributes.type must be a non-empty string`)
      type = value
    }
  }
  const subscriber = refName(triggerSpec.subscriber, `${where} spec.subscriber`)
  if (!subscriber) throw new Error(`${where}: spec.subscriber has no ref`)
  const delivery = triggerSpec.delivery === undefined ? undefined : parseDelivery(triggerSpec.delivery, where)
  return { name, ...(type ? { type } : {}), subscriber, ...(delivery ? { delivery } : {}) }
}

function parseDelivery(raw: unknown, where: string): DeliverySpec {
  if (raw === undefined || raw === null) return { retry: 0, backoffPolicy: 'exponential', backoffDelayMs: 0 }
  if (!isRecord(raw)) throw new Error(`${where}: spec.delivery must be a map`)
  const retry = raw.retry ?? 0
  if (typeof retry !== 'number' || !Number.isInteger(retry) || retry < 0) {
    throw new Error(`${where}: delivery.retry must be a whole number >= 0, got ${JSON.stringify(retry)}`)
  }
  const backoffPolicy = raw.backoffPolicy ?? 'exponential'
  if (backoffPolicy !== 'exponential' && backoffPolicy !== 'linear') {
    throw new Error(
      `${where}: delivery.backoffPolicy must be exponential or linear, got ${JSON.stringify(backoffPolicy)}`,
    )
  }
  let backoffDelayMs = 0
  if (raw.backoffDelay !== undefined) {
    if (typeof raw.backoffDelay !== 'string') throw new Error(`${where}: delivery.backoffDelay must be a string`)
    try {
      backoffDelayMs = parseIsoDuration(raw.backoffDelay)
    } catch (error) {
      throw new Error(`${where}: delivery.backoffDelay: ${(error as Error).message}`)
    }
  }
  const deadLetterSink = refName(raw.deadLetterSink, `${where} delivery.deadLetterSink`)
  return { retry, backoffPolicy, backoffDelayMs, ...(deadLetterSink ? { deadLetterSink } : {}) }
}

/** The Service a destination (`{ref}` or `{uri}`) names; locally only refs can be resolved. */
function refName(destination: unknown, where: string): string | undefined {
  if (destination === undefined || destination === null) return undefined
  if (!isRecord(destination)) throw new Error(`${where} must be a map`)
  if (destination.ref === undefined) {
    if (destination.uri !== undefined)
      throw new Error(`${where}: a uri destination is not supported locally, use a ref to a Service`)
    return undefined
  }
  const name = isRecord(destination.ref) ? destination.ref.name : undefined
  if (typeof name !== 'string' || name === '') throw new Error(`${where}: ref.name is missing`)
  return name
}

function isEventing(object: ManifestObject): boolean {
  return typeof object.apiVersion === 'string' && object.apiVersion.startsWith('eventing.knative.dev/')
}

function nameOf(object: ManifestObject): string {
  const name = isRecord(object.metadata) ? object.metadata.name : undefined
  if (typeof name !== 'string' || name === '')
    throw new Error(`a ${String(object.kind)} in ${object.file} has no metadata.name`)
  return name
}

function spec(object: ManifestObject): Record<string, unknown> {
  return isRecord(object.spec) ? object.spec : {}
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
