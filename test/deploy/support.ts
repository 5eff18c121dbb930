// What the deployment tests share: building the kustomizations with the real kubectl, reading
// the repository's functions, workflow and Argo CD files, and validating objects against their
// schemas. Everything is read from the checkout, so a change to any of them is what is tested.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import { parseAllDocuments } from 'yaml'
import { eventSchemas } from '../../shared/events/src/index.ts'

export const ROOT = resolve(import.meta.dirname, '../..')
export const KNATIVE_BASE = join(ROOT, 'knative/base')
export const OVERLAYS_DIR = join(ROOT, 'knative/overlays')
const ARGOCD_DIR = join(ROOT, 'argocd')
const WORKFLOW_FILE = join(ROOT, '.github/workflows/ci.yml')
/** The CRD schemas vendored from the datreeio CRDs-catalog (see its README). */
const SCHEMAS_DIR = join(import.meta.dirname, 'schemas')

export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const
export type Environment = (typeof ENVIRONMENTS)[number]

/**
 * Where every function's image lives: the workflow pushes `ghcr.io/<owner>/<repo>/<function>`,
 * for the repository Argo CD deploys from (argocd/applicationset.yaml), e.g. `ghcr.io/org/youtube-rag/`.
 */
export const IMAGE_PREFIX = (() => {
  const text = readFileSync(join(ARGOCD_DIR, 'applicationset.yaml'), 'utf8')
  const repo = /repoURL: https:\/\/github\.com\/(\S+?)\.git/.exec(text)?.[1]
  if (!repo) throw new Error('argocd/applicationset.yaml names no https://github.com/<owner>/<repo>.git')
  return `ghcr.io/${repo.toLowerCase()}/`
})()

/** A Kubernetes object as kustomize prints it. */
export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: {
    name: string
    namespace?: string | undefined
    labels?: Record<string, string>
    annotations?: Record<string, string>
  }
  spec?: any
  data?: Record<string, string>
  [field: string]: any
}

/** Parses every document of a YAML text; throws on a syntax error. */
function parseYaml(text: string, where: string): any[] {
  return parseAllDocuments(text).flatMap((document) => {
    const [error] = document.errors
    if (error) throw new Error(`${where}: invalid YAML: ${error.message}`)
    const value = document.toJS()
    return value === null || value === undefined ? [] : [value]
  })
}

export const readYaml = (path: string) => parseYaml(readFileSync(path, 'utf8'), path)

const builds = new Map<string, { objects: K8sObject[]; stderr: string }>()

/**
 * `kubectl kustomize <dir>`: the objects the directory builds to, in kustomize's order.
 * Throws with kubectl's message when the build fails (or kubectl is missing: scripts/system-deps.sh installs it).
 */
export function kustomize(dir: string): { objects: K8sObject[]; stderr: string } {
  const cached = builds.get(dir)
  if (cached) return structuredClone(cached)
  const built = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })
  if (built.error)
    throw new Error(`kubectl could not run (${built.error.message}); bash scripts/system-deps.sh installs it`)
  if (built.status !== 0) throw new Error(`kubectl kustomize ${relative(ROOT, dir)} failed:\n${built.stderr}`)
  const result = { objects: parseYaml(built.stdout, `kubectl kustomize ${dir}`) as K8sObject[], stderr: built.stderr }
  builds.set(dir, result)
  return structuredClone(result)
}

export const buildOverlay = (env: Environment) => kustomize(join(OVERLAYS_DIR, env)).objects

/**
 * Builds a throwaway kustomization (in a temporary directory) whose `resources` include `dir`,
 * with extra kustomization fields: how Argo CD's `kustomize.images` override is reproduced.
 */
export function kustomizeOver(dir: string, extra: Record<string, unknown>): K8sObject[] {
  const temp = mkdtempSync(join(tmpdir(), 'ytrag-kustomize-'))
  try {
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: [relative(temp, dir)],
      ...extra,
    }
    writeFileSync(join(temp, 'kustomization.yaml'), JSON.stringify(kustomization))
    return kustomize(temp).objects
  } finally {
    rmSync(temp, { recursive: true, force: true })
  }
}

const byKind = (objects: K8sObject[], apiVersion: string, kind: string) =>
  objects.filter((o) => o.apiVersion === apiVersion && o.kind === kind)

export const knativeServices = (objects: K8sObject[]) => byKind(objects, 'serving.knative.dev/v1', 'Service')
export const triggers = (objects: K8sObject[]) => byKind(objects, 'eventing.knative.dev/v1', 'Trigger')
export const brokers = (objects: K8sObject[]) => byKind(objects, 'eventing.knative.dev/v1', 'Broker')
export const sinkBindings = (objects: K8sObject[]) => byKind(objects, 'sources.knative.dev/v1', 'SinkBinding')
export const pingSources = (objects: K8sObject[]) => byKind(objects, 'sources.knative.dev/v1', 'PingSource')

export function only<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`)
  return items[0]!
}

/** The functions: every folder under functions/ with a package.json. */
export function functionNames(root = ROOT): string[] {
  const dir = join(root, 'functions')
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'package.json')))
    .sort()
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : []
  })
}

/** What the video lifecycle's own steps send (`lifecycle.fail(…)` sends `video.failed`). */
const LIFECYCLE_SENDS: Record<string, string> = { fail: 'video.failed', discovered: 'video.discovered' }

/**
 * The catalog names of the events a function emits, read from its src/: every `emit('<name>'`,
 * every `name: '<name>'` of a catalog event handed to the lifecycle (`finish(…, { send: [{ name:
 * 'transcript.ready', … }] })`), and the lifecycle steps that send on their own (`fail`,
 * `discovered`). Names are literals everywhere (TypeScript checks them against the catalog); a
 * computed name would escape this.
 */
export function emittedEventNames(fn: string, root = ROOT): string[] {
  const names = new Set<string>()
  for (const file of sourceFiles(join(root, 'functions', fn, 'src'))) {
    const source = readFileSync(file, 'utf8')
    for (const match of source.matchAll(/\bemit\(\s*['"`]([\w.-]+)['"`]/g)) names.add(match[1]!)
    for (const match of source.matchAll(/\bname:\s*['"`]([\w.-]+)['"`]/g))
      if (match[1]! in eventSchemas) names.add(match[1]!)
    for (const match of source.matchAll(/\blifecycle\.(\w+)\(/g))
      if (LIFECYCLE_SENDS[match[1]!]) names.add(LIFECYCLE_SENDS[match[1]!]!)
  }
  return [...names].sort()
}

export const readWorkflow = () => only(readYaml(WORKFLOW_FILE), 'workflow document')

/** The functions the image build's matrix lists. */
export const workflowMatrixFunctions = (workflow = readWorkflow()): string[] =>
  workflow.jobs?.images?.strategy?.matrix?.function ?? []

/** The Argo CD objects as `kubectl kustomize argocd` builds them. */
export const buildArgocd = () => kustomize(ARGOCD_DIR).objects

/** The functions whose images the ApplicationSet's templatePatch pins to the synced commit. */
export function applicationSetImageFunctions(applicationSet: K8sObject): string[] {
  const patch = String(applicationSet.spec.templatePatch ?? '')
  const list = /range \$\w+ := list ((?:"[^"]+"\s*)+)/.exec(patch)?.[1] ?? ''
  return [...list.matchAll(/"([^"]+)"/g)].map((match) => match[1]!)
}

/**
 * The Applications an ApplicationSet with a list generator makes: `{{ .key }}` replaced by each
 * element's value, and the templatePatch's image list applied where `imagesFromCommit` is set
 * (as Argo CD's goTemplate would render it). Any other template syntax is refused.
 */
export function renderApplicationSet(
  applicationSet: K8sObject,
): { element: Record<string, unknown>; application: K8sObject }[] {
  const elements = only(applicationSet.spec.generators as any[], 'generator').list.elements as Record<string, unknown>[]
  const template = JSON.stringify(applicationSet.spec.template)
  return elements.map((element) => {
    const rendered = template.replace(/{{\s*\.(\w+)\s*}}/g, (_, key: string) => {
      if (!(key in element)) throw new Error(`template uses .${key}, which element ${JSON.stringify(element)} lacks`)
      return String(element[key]).replace(/"/g, '\\"')
    })
    if (rendered.includes('{{')) throw new Error(`template syntax this renderer does not know: ${rendered}`)
    const application = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      ...JSON.parse(rendered),
    } as K8sObject
    application.metadata.namespace = applicationSet.metadata.namespace
    if (element.imagesFromCommit === true) {
      application.spec.source.kustomize = {
        images: applicationSetImageFunctions(applicationSet).map(
          (fn) => `${IMAGE_PREFIX}${fn}:\${ARGOCD_APP_REVISION}`,
        ),
      }
    }
    return { element, application }
  })
}

// ---- schemas ----

/**
 * The CRDs' patterns are Go regular expressions (RE2); the one difference they use is an inline
 * `(?i)` flag (the PrometheusRule's `abort|warn`), which JavaScript spells as the `i` flag.
 */
const goRegExp = Object.assign(
  (pattern: string, flags: string) =>
    pattern.includes('(?i)') ? new RegExp(pattern.replaceAll('(?i)', ''), `${flags}i`) : new RegExp(pattern, flags),
  { code: 'goRegExp' },
)
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, code: { regExp: goRegExp } })
const compiled = new Map<string, ValidateFunction>()

/** The vendored CRD schema file for an object's apiVersion and kind. */
function crdSchemaPath(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.split('/')
  return join(SCHEMAS_DIR, String(group), `${kind.toLowerCase()}_${version}.json`)
}

/** Core kinds come from `kubernetes-models`, cert-manager's from `@kubernetes-models/cert-manager`. */
async function modelFor(
  apiVersion: string,
  kind: string,
): Promise<(new (data: unknown) => { validate(): void }) | undefined> {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : ''
  const core = group === '' || group.endsWith('.k8s.io') || ['apps', 'batch', 'policy', 'autoscaling'].includes(group)
  const specifier =
    group === 'cert-manager.io'
      ? `@kubernetes-models/cert-manager/${apiVersion}/${kind}`
      : core
        ? `kubernetes-models/${apiVersion}/${kind}`
        : undefined
  if (!specifier) return undefined
  try {
    const module = (await import(specifier)) as Record<string, any>
    return module[kind]
  } catch {
    return undefined
  }
}

/**
 * Every way `object` breaks its schema, as readable lines; empty when it fits. An object of a
 * kind with no schema here is a problem too, so nothing passes unchecked.
 */
export async function schemaProblems(object: K8sObject): Promise<string[]> {
  const where = `${object.kind} ${object.metadata?.name}`
  const schemaFile = crdSchemaPath(object.apiVersion, object.kind)
  if (existsSync(schemaFile)) {
    let validate = compiled.get(schemaFile)
    if (!validate) {
      validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')))
      compiled.set(schemaFile, validate)
    }
    if (validate(object)) return []
    return (validate.errors ?? []).map((error) => {
      const extra =
        error.keyword === 'additionalProperties'
          ? ` (${(error.params as { additionalProperty: string }).additionalProperty})`
          : ''
      return `${where}: ${error.instancePath || '/'} ${error.message}${extra}`
    })
  }
  const Model = await modelFor(object.apiVersion, object.kind)
  if (!Model)
    return [`${where}: no schema for ${object.apiVersion} ${object.kind} (add its CRD schema to test/deploy/schemas)`]
  try {
    new Model(object).validate()
    return []
  } catch (error) {
    return [`${where}: ${(error as Error).message}`]
  }
}
