// The cross-file rules of the deployment: the functions under functions/, what they emit, the
// built Knative objects, the workflow's image matrix, the ApplicationSet's image list and the
// local broker's routing must all tell the same story. `consistencyProblems` lists every place
// where they do not, so a test can show both that the repository passes and that a broken
// copy (a Trigger removed, a function added) fails.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readBrokerWiring, type BrokerWiring } from '../../shared/broker/src/manifests/index.ts'
import { eventSchemas, eventType, PING_EVENT_TYPE, type EventName } from '../../shared/events/src/index.ts'
import {
  brokers,
  IMAGE_PREFIX,
  knativeServices,
  pingSources,
  sinkBindings,
  triggers,
  type K8sObject,
} from './support.ts'

export interface Deployment {
  /** One built overlay (`kubectl kustomize knative/overlays/<env>`). */
  objects: K8sObject[]
  /** The folders under functions/. */
  functions: string[]
  /** Catalog names of the events each function emits. */
  emits: Record<string, string[]>
  /** The image build's matrix. */
  workflowFunctions: string[]
  /** The functions whose images the ApplicationSet pins to the synced commit. */
  applicationSetFunctions: string[]
  /** What the local in-process broker routes by (readBrokerWiring on knative/base). */
  localWiring: BrokerWiring
}

const isKnativeServiceRef = (ref: any) => ref?.apiVersion === 'serving.knative.dev/v1' && ref?.kind === 'Service'

/** The function an image belongs to: `ghcr.io/org/youtube-rag/<function>[:tag]`. */
export function imageFunction(image: string): string | undefined {
  if (!image.startsWith(IMAGE_PREFIX)) return undefined
  return image.slice(IMAGE_PREFIX.length).split(/[:@]/)[0]
}

/** The routes of a set of built objects, read by the same code the local broker uses. */
function wiringOf(objects: K8sObject[]): BrokerWiring {
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-wiring-'))
  try {
    writeFileSync(join(dir, 'built.yaml'), objects.map((o) => JSON.stringify(o)).join('\n---\n'))
    writeFileSync(join(dir, 'kustomization.yaml'), 'resources:\n  - built.yaml\n')
    return readBrokerWiring(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const sameList = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())

/** Every inconsistency between the functions and the deployment; empty when there is none. */
export function consistencyProblems(deployment: Deployment): string[] {
  const { objects, functions } = deployment
  const problems: string[] = []
  const services = knativeServices(objects)
  const serviceNames = new Set(services.map((s) => s.metadata.name))

  // Every function is deployed, by a Service of its own name running its own image.
  for (const fn of functions) {
    if (!serviceNames.has(fn)) problems.push(`function ${fn} has no Knative Service`)
  }
  for (const service of services) {
    const name = service.metadata.name
    if (!functions.includes(name)) problems.push(`Knative Service ${name} is not a function under functions/`)
    for (const container of service.spec?.template?.spec?.containers ?? []) {
      const fn = imageFunction(String(container.image))
      if (fn === undefined || !functions.includes(fn))
        problems.push(`Knative Service ${name} runs ${container.image}, which is no function's image`)
      else if (fn !== name) problems.push(`Knative Service ${name} runs the image of ${fn}`)
    }
  }

  // The Broker, its dead-letter sink, and the Triggers' subscribers exist.
  const brokerNames = new Set(brokers(objects).map((b) => b.metadata.name))
  if (brokerNames.size !== 1) problems.push(`expected one Broker, found ${brokerNames.size}`)
  for (const broker of brokers(objects)) {
    const sink = broker.spec?.delivery?.deadLetterSink?.ref
    if (!isKnativeServiceRef(sink) || !serviceNames.has(sink.name)) {
      problems.push(
        `Broker ${broker.metadata.name}'s dead-letter sink ${JSON.stringify(sink)} is not a deployed Knative Service`,
      )
    }
  }
  const routed = new Map<string, string[]>()
  for (const trigger of triggers(objects)) {
    const { name } = trigger.metadata
    const ref = trigger.spec?.subscriber?.ref
    if (!isKnativeServiceRef(ref) || !serviceNames.has(ref.name)) {
      problems.push(
        `Trigger ${name}'s subscriber ${ref?.kind ?? '(none)'} ${ref?.name ?? ''} is not a deployed Knative Service`,
      )
    }
    if (!brokerNames.has(trigger.spec?.broker))
      problems.push(`Trigger ${name} names Broker ${trigger.spec?.broker}, which is not deployed`)
    const type = trigger.spec?.filter?.attributes?.type
    const attributes = Object.keys(trigger.spec?.filter?.attributes ?? {})
    if (typeof type !== 'string' || attributes.length !== 1)
      problems.push(`Trigger ${name} does not filter on exactly one attribute, type`)
    else routed.set(type, [...(routed.get(type) ?? []), ref?.name])
  }

  // Every event emitted (by a function or the PingSource) has a Trigger for its exact type.
  const emitted: [string, string][] = Object.entries(deployment.emits).flatMap(([fn, names]) =>
    names.map((name): [string, string] => {
      if (!(name in eventSchemas)) problems.push(`function ${fn} emits ${name}, which is not in the event catalog`)
      return [`function ${fn}`, eventType(name as EventName)]
    }),
  )
  for (const ping of pingSources(objects)) emitted.push([`PingSource ${ping.metadata.name}`, PING_EVENT_TYPE])
  for (const [emitter, type] of emitted) {
    if (!routed.has(type)) problems.push(`${emitter} emits ${type}, but no Trigger takes it`)
  }

  // Every function that emits gets K_SINK from a SinkBinding pointing at the Broker.
  for (const [fn, names] of Object.entries(deployment.emits)) {
    if (names.length === 0) continue
    const bound = sinkBindings(objects).some(
      (b) =>
        isKnativeServiceRef(b.spec?.subject) &&
        b.spec.subject.name === fn &&
        b.spec?.sink?.ref?.kind === 'Broker' &&
        brokerNames.has(b.spec.sink.ref.name),
    )
    if (!bound) problems.push(`function ${fn} emits events but no SinkBinding gives it the Broker as K_SINK`)
  }

  if (!sameList(deployment.workflowFunctions, functions)) {
    problems.push(
      `the workflow's image matrix lists [${deployment.workflowFunctions}], the functions are [${functions}]`,
    )
  }
  if (!sameList(deployment.applicationSetFunctions, functions)) {
    problems.push(
      `the ApplicationSet pins the images of [${deployment.applicationSetFunctions}], the functions are [${functions}]`,
    )
  }

  // The local broker routes exactly as the cluster's Broker and Triggers do.
  const cluster = wiringOf(objects)
  const local = deployment.localWiring
  const routes = (w: BrokerWiring) => w.triggers.map((t) => `${t.name}: ${t.type ?? '*'} -> ${t.subscriber}`).sort()
  if (!sameList(routes(cluster), routes(local))) {
    const missing = routes(local).filter((r) => !routes(cluster).includes(r))
    const extra = routes(cluster).filter((r) => !routes(local).includes(r))
    problems.push(
      `the local broker's routes differ from the cluster's: only local [${missing.join('; ')}], only in the cluster [${extra.join('; ')}]`,
    )
  }
  if (JSON.stringify(cluster.broker) !== JSON.stringify(local.broker)) {
    problems.push(
      `the local broker delivers as ${JSON.stringify(local.broker)}, the cluster's Broker as ${JSON.stringify(cluster.broker)}`,
    )
  }
  return problems
}
