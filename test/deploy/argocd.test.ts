// argocd/: the ApplicationSet makes one Application per environment that follows the release
// process, the data services of dev and staging come from pinned Helm charts, and the AppProject
// allows exactly what they deploy.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  buildArgocd,
  buildOverlay,
  ENVIRONMENTS,
  functionNames,
  IMAGE_PREFIX,
  knativeServices,
  kustomizeOver,
  only,
  OVERLAYS_DIR,
  readWorkflow,
  renderApplicationSet,
  ROOT,
  type Environment,
  type K8sObject,
} from './support.ts'

const objects = buildArgocd()
const project = only(
  objects.filter((o) => o.kind === 'AppProject'),
  'AppProject',
)
const applicationSet = only(
  objects.filter((o) => o.kind === 'ApplicationSet'),
  'ApplicationSet',
)
const rendered = renderApplicationSet(applicationSet)
const generated = Object.fromEntries(rendered.map(({ element, application }) => [element.env, application])) as Record<
  Environment,
  K8sObject
>
const dataApps = objects.filter((o) => o.kind === 'Application')

/** `>=X.Y.Z` is the only range form the ApplicationSet uses; enough to check the pinned release against it. */
function satisfies(version: string, range: string): boolean {
  const parse = (v: string) => v.replace(/^v/, '').split('.').map(Number)
  const floor = /^>=\s*(\S+)$/.exec(range)?.[1]
  if (!floor) throw new Error(`unexpected range ${range}`)
  const [a, b] = [parse(version), parse(floor)]
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!
  return true
}

describe('the ApplicationSet', () => {
  it('uses Go templates and a list generator with one element per environment', () => {
    expect(applicationSet.metadata.namespace).toBe('argocd')
    expect(applicationSet.spec.goTemplate).toBe(true)
    expect(applicationSet.spec.goTemplateOptions).toEqual(['missingkey=error'])
    expect(rendered.map(({ element }) => element.env)).toEqual([...ENVIRONMENTS])
  })

  it.each([...ENVIRONMENTS])(
    'makes youtube-rag-%s, syncing the overlay of that environment into its namespace',
    (env) => {
      const app = generated[env]
      expect(app.metadata.name).toBe(`youtube-rag-${env}`)
      expect(app.spec.project).toBe(project.metadata.name)
      expect(app.spec.source.path).toBe(`knative/overlays/${env}`)
      expect(existsSync(join(ROOT, app.spec.source.path, 'kustomization.yaml'))).toBe(true)
      const namespace = only(
        buildOverlay(env).filter((o) => o.kind === 'Namespace'),
        'Namespace',
      ).metadata.name
      expect(app.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace })
      expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true })
      expect(app.spec.syncPolicy.retry.limit).toBeGreaterThan(0)
      expect(app.spec.syncPolicy.retry.backoff).toMatchObject({
        duration: expect.stringMatching(/^\d+[sm]$/),
        factor: 2,
        maxDuration: expect.stringMatching(/^\d+[sm]$/),
      })
      expect(app.spec.syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true')
      expect(app.spec.ignoreDifferences).toEqual([
        expect.objectContaining({
          group: 'serving.knative.dev',
          kind: 'Service',
          jqPathExpressions: [expect.stringContaining('K_SINK')],
        }),
      ])
    },
  )

  it('follows main in dev, the tag CI moves in staging, and the newest v* release in prod', () => {
    expect(generated.dev.spec.source.targetRevision).toBe('main')
    // The workflow's promote-staging job moves exactly this tag.
    const promote = readWorkflow().jobs['promote-staging']
    expect(promote.steps.map((s: any) => s.run ?? '').join('\n')).toContain(
      `refs/tags/${generated.staging.spec.source.targetRevision}`,
    )
    const prodRange = generated.prod.spec.source.targetRevision as string
    const pinned = String(knativeServices(buildOverlay('prod'))[0]!.spec.template.spec.containers[0].image)
      .split(':')
      .pop()!
    expect(satisfies(pinned, prodRange)).toBe(true)
    expect(satisfies('v0.9.0', prodRange)).toBe(false)
  })

  it('lets an operator switch auto-sync off during an incident without the ApplicationSet undoing it', () => {
    expect(applicationSet.spec.ignoreApplicationDifferences).toEqual([{ jsonPointers: ['/spec/syncPolicy'] }])
  })

  it('pulls from the repository whose images the workflow pushes', () => {
    const repo = /^https:\/\/github\.com\/(.+)\.git$/.exec(generated.dev.spec.source.repoURL)?.[1]
    expect(`ghcr.io/${repo}/`).toBe(IMAGE_PREFIX)
    const images = readWorkflow().jobs.images.steps.find((s: any) => s.id === 'meta').with.images
    expect(images).toBe('ghcr.io/${{ github.repository }}/${{ matrix.function }}')
  })

  it('runs the commit it syncs in dev and staging: the image override, applied as Argo CD does, reaches every function', () => {
    const commit = 'f'.repeat(40)
    for (const env of ['dev', 'staging'] as const) {
      const overrides: string[] = generated[env].spec.source.kustomize.images
      expect(overrides.every((o) => o.endsWith(':${ARGOCD_APP_REVISION}'))).toBe(true)
      const images = overrides.map((override) => {
        const [name] = override.split(':')
        return { name, newTag: commit }
      })
      const built = kustomizeOver(join(OVERLAYS_DIR, env), { images })
      const running = knativeServices(built).map((s) => s.spec.template.spec.containers[0].image)
      expect(running.sort()).toEqual(functionNames().map((fn) => `${IMAGE_PREFIX}${fn}:${commit}`))
    }
    expect(generated.prod.spec.source.kustomize).toBeUndefined()
  })
})

describe('the data services of dev and staging', () => {
  it.each(['dev', 'staging'])('%s gets Qdrant, MongoDB, an S3 server and Redis from pinned Helm charts', (env) => {
    const app = only(
      dataApps.filter((a) => a.metadata.name === `youtube-rag-data-${env}`),
      `youtube-rag-data-${env}`,
    )
    expect(app.spec.destination).toEqual({
      server: 'https://kubernetes.default.svc',
      namespace: `youtube-rag-${env}-data`,
    })
    expect(app.spec.sources.map((s: any) => s.chart).sort()).toEqual(['minio', 'mongodb', 'qdrant', 'redis'])
    for (const source of app.spec.sources) expect(source.targetRevision, source.chart).toMatch(/^\d+\.\d+\.\d+$/)
    expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true })
    expect(app.spec.syncPolicy.syncOptions).toContain('CreateNamespace=true')
  })

  it('does not exist for prod, which uses managed services', () => {
    expect(dataApps.some((a) => a.spec.destination.namespace.includes('prod'))).toBe(false)
  })
})

describe('the AppProject', () => {
  const applications = [...Object.values(generated), ...dataApps]
  const allowedNamespaces = project.spec.destinations.map((d: any) => `${d.server} ${d.namespace}`)

  it('admits every Application: its project, its sources and its destination', () => {
    for (const app of applications) {
      expect(app.spec.project, app.metadata.name).toBe(project.metadata.name)
      const sources = app.spec.sources ?? [app.spec.source]
      for (const source of sources) expect(project.spec.sourceRepos, app.metadata.name).toContain(source.repoURL)
      expect(allowedNamespaces, app.metadata.name).toContain(
        `${app.spec.destination.server} ${app.spec.destination.namespace}`,
      )
    }
  })

  it.each([...ENVIRONMENTS])(
    'whitelists every kind the %s overlay deploys, and no other cluster-scoped kind',
    (env) => {
      const allowed = (list: { group: string; kind: string }[], group: string, kind: string) =>
        list.some((entry) => entry.group === group && (entry.kind === '*' || entry.kind === kind))
      for (const object of buildOverlay(env)) {
        const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0]! : ''
        const list =
          object.kind === 'Namespace' ? project.spec.clusterResourceWhitelist : project.spec.namespaceResourceWhitelist
        expect(allowed(list, group, object.kind), `${object.apiVersion} ${object.kind}`).toBe(true)
      }
      expect(project.spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }])
    },
  )
})
