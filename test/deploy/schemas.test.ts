// Every object the kustomizations build fits its schema: the vendored CRD schemas for Knative,
// Argo CD, the ServiceMonitor and PrometheusRule (strict: unknown fields fail), kubernetes-models for core kinds.
import { describe, expect, it } from 'vitest'
import {
  buildArgocd,
  buildOverlay,
  ENVIRONMENTS,
  KNATIVE_BASE,
  kustomize,
  renderApplicationSet,
  schemaProblems,
  type K8sObject,
} from './support.ts'

async function allProblems(objects: K8sObject[]) {
  return (await Promise.all(objects.map(schemaProblems))).flat()
}

describe('kubectl kustomize', () => {
  it.each([...ENVIRONMENTS])('builds knative/overlays/%s without warnings', (env) => {
    const { stderr } = kustomize(`${KNATIVE_BASE}/../overlays/${env}`)
    expect(stderr).toBe('')
  })

  it('builds knative/base and argocd/ without warnings', () => {
    expect(kustomize(KNATIVE_BASE).stderr).toBe('')
    expect(
      buildArgocd()
        .map((o) => o.kind)
        .sort(),
    ).toEqual(['AppProject', 'Application', 'Application', 'ApplicationSet'])
  })
})

describe('schemas', () => {
  it.each([...ENVIRONMENTS])('every object of the %s overlay fits its schema', async (env) => {
    const objects = buildOverlay(env)
    const kinds = new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`))
    // The kinds the overlays are made of, so none slips past unvalidated.
    expect([...kinds]).toEqual(
      expect.arrayContaining([
        'v1 Namespace',
        'v1 ConfigMap',
        'v1 ServiceAccount',
        'v1 Service',
        'serving.knative.dev/v1 Service',
        'eventing.knative.dev/v1 Broker',
        'eventing.knative.dev/v1 Trigger',
        'sources.knative.dev/v1 PingSource',
        'sources.knative.dev/v1 SinkBinding',
        'networking.k8s.io/v1 NetworkPolicy',
        'monitoring.coreos.com/v1 ServiceMonitor',
        'monitoring.coreos.com/v1 PrometheusRule',
      ]),
    )
    expect(await allProblems(objects)).toEqual([])
  })

  it('the Argo CD objects, and the Applications the ApplicationSet renders, fit their schemas', async () => {
    const objects = buildArgocd()
    const applicationSet = objects.find((o) => o.kind === 'ApplicationSet')!
    const rendered = renderApplicationSet(applicationSet).map((r) => r.application)
    expect(rendered.map((a) => a.metadata.name)).toEqual(['youtube-rag-dev', 'youtube-rag-staging', 'youtube-rag-prod'])
    expect(await allProblems([...objects, ...rendered])).toEqual([])
  })

  it('rejects a misspelt field or a wrong type in a CRD', async () => {
    const service = structuredClone(
      buildOverlay('dev').find((o) => o.kind === 'Service' && o.apiVersion === 'serving.knative.dev/v1')!,
    )
    service.spec.template.spec.containers[0].readinessprobe = service.spec.template.spec.containers[0].readinessProbe
    service.spec.template.spec.timeoutSeconds = '600'
    expect(await schemaProblems(service)).toEqual([
      `Service ${service.metadata.name}: /spec/template/spec/containers/0 must NOT have additional properties (readinessprobe)`,
      `Service ${service.metadata.name}: /spec/template/spec/timeoutSeconds must be integer`,
    ])
    const broker = structuredClone(buildOverlay('dev').find((o) => o.kind === 'Broker')!)
    broker.spec.delivery.retry = 'three'
    broker.spec.delivery.deadLetterSink.reff = broker.spec.delivery.deadLetterSink.ref
    expect(await schemaProblems(broker)).toEqual([
      'Broker default: /spec/delivery/deadLetterSink must NOT have additional properties (reff)',
      'Broker default: /spec/delivery/retry must be integer',
    ])
  })

  it('rejects a core object of the wrong shape, and a kind it has no schema for', async () => {
    const configMap = structuredClone(
      buildOverlay('dev').find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'youtube-rag-config')!,
    )
    configMap.data!.YOUTUBE_RAG__VECTOR_DB__PORT = 6333 as unknown as string
    expect(await schemaProblems(configMap)).toEqual([
      expect.stringMatching(/^ConfigMap youtube-rag-config: .*YOUTUBE_RAG__VECTOR_DB__PORT must be string/),
    ])
    const unknown = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }
    expect(await schemaProblems(unknown)).toEqual([
      'Widget w: no schema for example.com/v1 Widget (add its CRD schema to test/deploy/schemas)',
    ])
  })

  it('checks the prod Certificate with the cert-manager models', async () => {
    const certificate = structuredClone(buildOverlay('prod').find((o) => o.kind === 'Certificate')!)
    expect(await schemaProblems(certificate)).toEqual([])
    delete certificate.spec.secretName
    expect(await schemaProblems(certificate)).toEqual([expect.stringContaining('secretName')])
  })
})
