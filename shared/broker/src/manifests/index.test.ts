import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { removeTrigger, tempDirs } from '../../test/fixtures.ts'
import { validateJsonSchema, type JsonSchema } from '../../test/json-schema.ts'
import { knativeBaseDir, readBrokerWiring } from './index.ts'

const dirs = tempDirs()
afterAll(dirs.cleanup)

const EXPECTED_ROUTES = {
  'discover-ingest-requested': ['io.youtube-rag.ingest.requested.v1', 'discover'],
  'discover-channel-resync-requested': ['io.youtube-rag.channel.resync.requested.v1', 'discover'],
  'discover-ping': ['dev.knative.sources.ping', 'discover'],
  'download-video-discovered': ['io.youtube-rag.video.discovered.v1', 'download'],
  'transcribe-audio-segment-ready': ['io.youtube-rag.audio.segment.ready.v1', 'transcribe'],
  'indexer-transcript-ready': ['io.youtube-rag.transcript.ready.v1', 'indexer'],
  'api-video-indexed': ['io.youtube-rag.video.indexed.v1', 'api'],
  'api-video-failed': ['io.youtube-rag.video.failed.v1', 'api'],
}

const BROKER = (extra = '') => `apiVersion: eventing.knative.dev/v1
kind: Broker
metadata:
  name: default
spec:
  delivery:
    retry: 2
    backoffPolicy: linear
    backoffDelay: PT2S
    deadLetterSink:
      ref: { apiVersion: serving.knative.dev/v1, kind: Service, name: dead-letter }
${extra}`

const trigger = (name: string, spec: string) => `---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata:
  name: ${name}
spec:
${spec}`

const kustomization = (...resources: string[]) => `resources:\n${resources.map((r) => `  - ${r}\n`).join('')}`

/** The fields these checks read of a rendered manifest. */
type KubernetesObject = {
  kind: string
  apiVersion: string
  metadata: { name: string; namespace: string; annotations?: Record<string, string> }
  spec: Record<string, unknown>
}

describe('readBrokerWiring on knative/base', () => {
  const wiring = readBrokerWiring(knativeBaseDir)

  it('finds the project base next to the workspace packages', () => {
    expect(existsSync(join(knativeBaseDir, 'kustomization.yaml'))).toBe(true)
    expect(resolve(knativeBaseDir)).toBe(resolve(import.meta.dirname, '../../../../knative/base'))
  })

  it('reads the Broker delivery: 3 retries, exponential from 0.5 s, dead letters to dead-letter', () => {
    expect(wiring.broker).toEqual({
      name: 'default',
      retry: 3,
      backoffPolicy: 'exponential',
      backoffDelayMs: 500,
      deadLetterSink: 'dead-letter',
    })
  })

  it('reads the PingSource that sends the re-sync schedule to the Broker', () => {
    expect(wiring.pingSources).toEqual([expect.objectContaining({ name: 'resync-schedule', schedule: '*/15 * * * *' })])
  })

  it('reads the 8 Triggers with their exact type and subscriber, inheriting the Broker delivery', () => {
    expect(wiring.triggers).toHaveLength(8)
    const routes = Object.fromEntries(wiring.triggers.map((t) => [t.name, [t.type, t.subscriber]]))
    expect(routes).toEqual(EXPECTED_ROUTES)
    expect(wiring.triggers.every((t) => t.delivery === undefined)).toBe(true)
  })

  it("reads each function's timeoutSeconds from its Knative Service", () => {
    expect(wiring.timeoutSeconds).toMatchObject({ download: 600, indexer: 180, api: 120 })
  })

  it('loses the route of a Trigger removed from the manifests', () => {
    const dir = dirs.copyOfKnativeBase()
    removeTrigger(dir, 'download-video-discovered')
    const { triggers } = readBrokerWiring(dir)
    expect(triggers).toHaveLength(7)
    expect(triggers.some((t) => t.type === 'io.youtube-rag.video.discovered.v1')).toBe(false)
  })
})

describe('readBrokerWiring', () => {
  it("reads nested kustomizations, Trigger delivery overrides, catch-all Triggers, and skips other Brokers' Triggers", () => {
    const dir = dirs.withFiles({
      'kustomization.yaml': kustomization('eventing', 'service.yaml'),
      'service.yaml': 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: download\n',
      'eventing/kustomization.yaml': kustomization('broker.yaml', 'triggers.yaml'),
      'eventing/broker.yaml': BROKER(),
      'eventing/triggers.yaml': [
        trigger(
          'own-delivery',
          `  broker: default
  filter: { attributes: { type: a.v1 } }
  subscriber: { ref: { apiVersion: serving.knative.dev/v1, kind: Service, name: download } }
  delivery: { retry: 5, backoffDelay: PT1M }`,
        ),
        trigger(
          'catch-all',
          `  broker: default
  subscriber: { ref: { apiVersion: serving.knative.dev/v1, kind: Service, name: audit } }`,
        ),
        trigger(
          'elsewhere',
          `  broker: other
  filter: { attributes: { type: a.v1 } }
  subscriber: { ref: { apiVersion: serving.knative.dev/v1, kind: Service, name: nobody } }`,
        ),
      ].join('\n'),
    })
    expect(readBrokerWiring(dir)).toEqual({
      broker: {
        name: 'default',
        retry: 2,
        backoffPolicy: 'linear',
        backoffDelayMs: 2000,
        deadLetterSink: 'dead-letter',
      },
      triggers: [
        // A Trigger's delivery replaces the Broker's whole: no dead-letter sink unless it names one.
        {
          name: 'own-delivery',
          type: 'a.v1',
          subscriber: 'download',
          delivery: { retry: 5, backoffPolicy: 'exponential', backoffDelayMs: 60_000 },
        },
        { name: 'catch-all', subscriber: 'audit' },
      ],
      pingSources: [],
    })
  })

  it('defaults a Broker without delivery to no retries and no dead-letter sink', () => {
    const dir = dirs.withFiles({
      'kustomization.yaml': kustomization('broker.yaml'),
      'broker.yaml': 'apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata:\n  name: plain\n',
    })
    expect(readBrokerWiring(dir)).toEqual({
      broker: { name: 'plain', retry: 0, backoffPolicy: 'exponential', backoffDelayMs: 0 },
      triggers: [],
      pingSources: [],
    })
  })

  it('says when the kustomization is missing', () => {
    const dir = dirs.withFiles({ 'broker.yaml': BROKER() })
    expect(() => readBrokerWiring(dir)).toThrow(`no kustomization.yaml in ${dir}`)
  })

  it('says when a listed resource is missing', () => {
    const dir = dirs.withFiles({
      'kustomization.yaml': kustomization('broker.yaml', 'gone.yaml'),
      'broker.yaml': BROKER(),
    })
    expect(() => readBrokerWiring(dir)).toThrow(/resource gone\.yaml does not exist/)
  })

  it('says when there is no Broker, or several and none chosen', () => {
    const none = dirs.withFiles({
      'kustomization.yaml': kustomization('cm.yaml'),
      'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
    })
    expect(() => readBrokerWiring(none)).toThrow(/expected exactly one Broker in the kustomization at .*, found none/)

    const two = dirs.withFiles({
      'kustomization.yaml': kustomization('brokers.yaml'),
      'brokers.yaml': `${BROKER()}---\n${BROKER().replace('name: default', 'name: second')}`,
    })
    expect(() => readBrokerWiring(two)).toThrow(/found default, second/)
    expect(readBrokerWiring(two, { broker: 'second' }).broker.name).toBe('second')
    expect(() => readBrokerWiring(two, { broker: 'third' })).toThrow(/expected Broker "third"/)
  })

  it('refuses what the local broker cannot honour instead of routing differently from the cluster', () => {
    const withTrigger = (spec: string) =>
      dirs.withFiles({
        'kustomization.yaml': kustomization('b.yaml', 't.yaml'),
        'b.yaml': BROKER(),
        't.yaml': trigger('t', spec),
      })
    const ref = 'subscriber: { ref: { kind: Service, name: s } }'
    expect(() =>
      readBrokerWiring(withTrigger(`  broker: default\n  filter: { attributes: { source: /x } }\n  ${ref}`)),
    ).toThrow(/Trigger t .*filtering on "source" is not supported/)
    expect(() =>
      readBrokerWiring(withTrigger(`  broker: default\n  filters: [{ prefix: { type: io. } }]\n  ${ref}`)),
    ).toThrow(/spec\.filters is not supported/)
    expect(() => readBrokerWiring(withTrigger(`  broker: default\n  subscriber: { uri: http://example.com }`))).toThrow(
      /uri destination is not supported/,
    )
    expect(() =>
      readBrokerWiring(withTrigger(`  broker: default\n  ${ref}\n  delivery: { backoffDelay: 2s }`)),
    ).toThrow(/Trigger t .*backoffDelay: invalid ISO 8601 duration "2s"/)
    expect(() =>
      readBrokerWiring(withTrigger(`  broker: default\n  ${ref}\n  delivery: { backoffPolicy: random }`)),
    ).toThrow(/backoffPolicy must be exponential or linear/)
    expect(() => readBrokerWiring(withTrigger(`  ${ref}`))).toThrow(/Trigger t .* has no spec\.broker/)
  })

  it('reports invalid YAML with the file name', () => {
    const dir = dirs.withFiles({
      'kustomization.yaml': kustomization('b.yaml'),
      'b.yaml': 'kind: Broker\n  bad: [indent\n',
    })
    expect(() => readBrokerWiring(dir)).toThrow(/b\.yaml: invalid YAML/)
  })
})

// Offline manifest check: kustomize builds the base and every eventing object fits its CRD schema.
// The schemas are vendored in the repository (test/deploy/schemas), so this runs on any clone;
// kubectl comes from scripts/system-deps.sh.
const schemasDir = resolve(knativeBaseDir, '../../test/deploy/schemas')

describe('kubectl kustomize knative/base', () => {
  it('builds, and every Broker, Trigger and PingSource fits its CRD schema', () => {
    const built = spawnSync('kubectl', ['kustomize', knativeBaseDir], { encoding: 'utf8' })
    expect(built.stderr).toBe('')
    expect(built.status).toBe(0)
    const objects = parseAllDocuments(built.stdout).map((document) => document.toJS() as KubernetesObject)
    const kinds = objects.map((o) => o.kind)
    expect(kinds.filter((k) => k === 'Broker')).toHaveLength(1)
    expect(kinds.filter((k) => k === 'Trigger')).toHaveLength(8)
    expect(kinds.filter((k) => k === 'PingSource')).toHaveLength(1)

    for (const object of objects.filter((o) => ['Broker', 'Trigger', 'PingSource'].includes(o.kind))) {
      expect(object.metadata.namespace).toBe('youtube-rag')
      const [group, version] = String(object.apiVersion).split('/')
      const schemaFile = join(schemasDir, String(group), `${String(object.kind).toLowerCase()}_${version}.json`)
      const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as JsonSchema
      expect(validateJsonSchema(object, schema), `${object.kind} ${object.metadata.name}`).toEqual([])
    }

    const ping = objects.find((o) => o.kind === 'PingSource')!
    expect(ping.metadata.name).toBe('resync-schedule')
    expect(ping.spec).toMatchObject({
      schedule: '*/15 * * * *',
      contentType: 'application/json',
      sink: { ref: { kind: 'Broker', name: 'default' } },
    })
    expect(JSON.parse(String(ping.spec.data))).toEqual({ reason: 'scheduled-resync' })
    const broker = objects.find((o) => o.kind === 'Broker')!
    expect(broker.metadata.annotations?.['eventing.knative.dev/broker.class']).toBe('MTChannelBasedBroker')
  })
})
