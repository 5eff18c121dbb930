// What each environment's build holds: the functions' Services (scale, concurrency, timeouts,
// probes, security), the configuration the functions will load, the Broker class, the images,
// the network policy and monitoring, and prod's public domain.
import { describe, expect, it } from 'vitest'
import { configSchema, loadConfig } from '../../shared/config/src/index.ts'
import {
  brokers,
  buildArgocd,
  buildOverlay,
  ENVIRONMENTS,
  functionNames,
  knativeServices,
  only,
  pingSources,
  type Environment,
  type K8sObject,
} from './support.ts'

const functions = functionNames()
const PIPELINE = functions.filter((fn) => fn !== 'api')

/** Every variable name the configuration schema reads (YOUTUBE_RAG__<SECTION>__<KEY>). */
const envKey = (key: string) => key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()
const CONFIG_VARIABLES = new Set(
  Object.entries(configSchema.shape).flatMap(([section, schema]) =>
    Object.keys(schema.shape).map((key) => `YOUTUBE_RAG__${envKey(section)}__${envKey(key)}`),
  ),
)

/** Stand-ins for what the operator's Secret youtube-rag-secrets carries in each environment (README). */
const SECRET: Record<Environment, Record<string, string>> = {
  dev: {
    YOUTUBE_RAG__DOCUMENT_DB__URI:
      'mongodb://youtube-rag:secret@mongodb.youtube-rag-dev-data.svc.cluster.local:27017/youtube_rag',
    YOUTUBE_RAG__BLOB_STORAGE__ACCESS_KEY_ID: 'youtube-rag',
    YOUTUBE_RAG__BLOB_STORAGE__SECRET_ACCESS_KEY: 'secret',
  },
  staging: {
    YOUTUBE_RAG__DOCUMENT_DB__URI:
      'mongodb://youtube-rag:secret@mongodb.youtube-rag-staging-data.svc.cluster.local:27017/youtube_rag',
    YOUTUBE_RAG__BLOB_STORAGE__ACCESS_KEY_ID: 'youtube-rag',
    YOUTUBE_RAG__BLOB_STORAGE__SECRET_ACCESS_KEY: 'secret',
    OPENAI_API_KEY: 'sk-test',
  },
  prod: {
    YOUTUBE_RAG__DOCUMENT_DB__URI: 'mongodb+srv://youtube-rag:secret@cluster0.example.mongodb.net/youtube_rag',
    YOUTUBE_RAG__VECTOR_DB__URL: 'https://qdrant.example.cloud:6333',
    QDRANT_API_KEY: 'secret',
    YOUTUBE_RAG__RATE_LIMIT__REDIS_URL: 'rediss://:secret@redis.example.com:6379',
    OPENAI_API_KEY: 'sk-test',
  },
}

const serviceNamed = (objects: K8sObject[], name: string) =>
  only(
    knativeServices(objects).filter((s) => s.metadata.name === name),
    `Knative Service ${name}`,
  )
const annotation = (service: K8sObject, key: string) =>
  service.spec.template.metadata.annotations[`autoscaling.knative.dev/${key}`] as string | undefined
const configMap = (objects: K8sObject[]) =>
  only(
    objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name === 'youtube-rag-config'),
    'ConfigMap',
  )

describe.each(ENVIRONMENTS)('knative/overlays/%s', (env) => {
  const objects = buildOverlay(env)
  const namespace = `youtube-rag-${env}`
  const config = configMap(objects).data!

  it(`puts everything in the namespace ${namespace}, which enforces Pod Security "restricted"`, () => {
    const ns = only(
      objects.filter((o) => o.kind === 'Namespace'),
      'Namespace',
    )
    expect(ns.metadata.name).toBe(namespace)
    expect(ns.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    })
    for (const object of objects.filter((o) => o.kind !== 'Namespace'))
      expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe(namespace)
  })

  it('has a ConfigMap whose every key is a configuration variable, and which the functions load with the cluster adapters', () => {
    for (const key of Object.keys(config)) expect(CONFIG_VARIABLES, key).toContain(key)
    const loaded = loadConfig({ ...config, ...SECRET[env] })
    expect(loaded.app.environment).toBe(env)
    expect(loaded.documentDb.provider).toBe('mongodb')
    expect(loaded.vectorDb.provider).toBe('qdrant')
    expect(loaded.blobStorage.provider).toBe('s3')
    expect(loaded.rateLimit.provider).toBe('redis')
    expect(loaded.storage.dir.startsWith('/tmp/')).toBe(true)
    // No secret value is committed: credentials only ever come from the Secret.
    for (const [key, value] of Object.entries(config)) {
      expect(key).not.toMatch(/KEY|SECRET|PASSWORD|URI/)
      expect(value, key).not.toMatch(/:\/\/[^/@]*:[^/@]*@/)
    }
  })

  it('runs one Knative Service per function, the pipeline scaling to zero, each with bounds, concurrency and resources', () => {
    expect(
      knativeServices(objects)
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(functions)
    for (const service of knativeServices(objects)) {
      const name = service.metadata.name
      const spec = service.spec.template.spec
      const min = Number(annotation(service, 'min-scale'))
      const max = Number(annotation(service, 'max-scale'))
      const target = Number(annotation(service, 'target'))
      expect(PIPELINE.includes(name) ? min : 0, name).toBe(0)
      expect(max, name).toBeGreaterThanOrEqual(Math.max(min, 1))
      expect(spec.containerConcurrency, name).toBeGreaterThan(0)
      expect(target, name).toBeGreaterThan(0)
      expect(target, name).toBeLessThanOrEqual(spec.containerConcurrency)
      const [container] = spec.containers
      expect(spec.containers).toHaveLength(1)
      expect(container.resources.requests, name).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) })
      expect(container.resources.limits, name).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) })
    }
  })

  it("gives each function a timeout that fits its longest delivery, within Knative's 600 s ceiling", () => {
    const { tools, audio } = loadConfig({ ...config, ...SECRET[env] })
    const timeout = (name: string) => serviceNamed(objects, name).spec.template.spec.timeoutSeconds as number
    for (const service of knativeServices(objects))
      expect(service.spec.template.spec.timeoutSeconds).toBeLessThanOrEqual(600)
    // discover waits on one yt-dlp listing; download on yt-dlp's metadata, then either the
    // captions (a second yt-dlp run) or the audio download, with time left for ffmpeg.
    expect(timeout('discover')).toBeGreaterThan(tools.ytdlpTimeoutSeconds)
    expect(timeout('download')).toBeGreaterThan(2 * tools.ytdlpTimeoutSeconds)
    expect(timeout('download')).toBeGreaterThanOrEqual(tools.ytdlpTimeoutSeconds + audio.downloadTimeoutSeconds + 120)
    expect(timeout('dead-letter')).toBeLessThan(timeout('download'))
  })

  it('probes /health/ready and /health/live and runs every function non-root, read-only, without capabilities', () => {
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name)
    for (const service of knativeServices(objects)) {
      const spec = service.spec.template.spec
      const [container] = spec.containers
      const where = service.metadata.name
      expect(container.readinessProbe.httpGet.path, where).toBe('/health/ready')
      expect(container.livenessProbe.httpGet.path, where).toBe('/health/live')
      expect(container.ports, where).toEqual([{ name: 'http1', containerPort: 8080 }])
      expect(container.securityContext, where).toEqual({
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      })
      const tmp = container.volumeMounts.find((m: any) => m.mountPath === '/tmp')
      expect(spec.volumes.find((v: any) => v.name === tmp?.name)?.emptyDir, where).toBeDefined()
      expect(accounts, where).toContain(spec.serviceAccountName)
      expect(container.envFrom, where).toEqual([
        { configMapRef: { name: 'youtube-rag-config' } },
        { secretRef: { name: 'youtube-rag-secrets' } },
      ])
    }
    expect(
      only(
        objects.filter((o) => o.kind === 'ServiceAccount'),
        'ServiceAccount',
      ).automountServiceAccountToken,
    ).toBe(false)
  })

  it('keeps every function but api inside the cluster', () => {
    for (const service of knativeServices(objects)) {
      const visibility = service.metadata.labels?.['networking.knative.dev/visibility']
      expect(visibility, service.metadata.name).toBe(service.metadata.name === 'api' ? undefined : 'cluster-local')
    }
  })

  it('has one Broker retrying with exponential backoff into dead-letter, and the re-sync PingSource', () => {
    const broker = only(brokers(objects), 'Broker')
    expect(broker.spec.delivery).toMatchObject({
      retry: expect.any(Number),
      backoffPolicy: 'exponential',
      deadLetterSink: { ref: { kind: 'Service', name: 'dead-letter' } },
    })
    expect(broker.spec.delivery.retry).toBeGreaterThan(0)
    const ping = only(pingSources(objects), 'PingSource')
    expect(ping.spec.sink.ref).toEqual({ apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: 'default' })
    expect(ping.spec.schedule).toMatch(/^(\S+\s+){4}\S+$/)
  })

  it('lets pods talk only to the Knative data plane, DNS, the Broker, the stores and HTTPS', () => {
    const policy = only(
      objects.filter((o) => o.kind === 'NetworkPolicy'),
      'NetworkPolicy',
    )
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress'])
    // It applies to every function's pods.
    for (const service of knativeServices(objects))
      expect(service.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels)
    const sources = policy.spec.ingress.flatMap((rule: any) =>
      rule.from.flatMap(
        (peer: any) =>
          peer.namespaceSelector.matchExpressions?.[0]?.values ?? [
            peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name'],
          ],
      ),
    )
    expect(sources).toEqual(
      expect.arrayContaining(['knative-serving', 'knative-eventing', 'kourier-system', 'monitoring']),
    )
    const egressPorts = policy.spec.egress.flatMap((rule: any) => (rule.ports ?? []).map((p: any) => p.port))
    expect(egressPorts).toEqual(expect.arrayContaining([53, 443, 6333, 27017, 9000, 6379]))
    const stores = policy.spec.egress.find((rule: any) => rule.ports?.some((p: any) => p.port === 27017))
    if (env === 'prod') expect(stores.to).toBeUndefined()
    else
      expect(stores.to).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': `youtube-rag-${env}-data` } } },
      ])
    // HTTPS goes to public addresses only: every private, loopback, link-local (cloud metadata)
    // and unique-local range is cut out of both address families.
    const https = policy.spec.egress.find((rule: any) => rule.ports?.some((p: any) => p.port === 443))
    const blocks = Object.fromEntries(https.to.map((peer: any) => [peer.ipBlock.cidr, peer.ipBlock.except]))
    expect(Object.keys(blocks).sort()).toEqual(['0.0.0.0/0', '::/0'])
    expect(blocks['0.0.0.0/0']).toEqual(
      expect.arrayContaining([
        '10.0.0.0/8',
        '172.16.0.0/12',
        '192.168.0.0/16',
        '169.254.0.0/16',
        '127.0.0.0/8',
        '100.64.0.0/10',
      ]),
    )
    expect(blocks['::/0']).toEqual(expect.arrayContaining(['::1/128', 'fc00::/7', 'fe80::/10', '::ffff:0:0/96']))
  })

  it("has Prometheus scrape every function pod straight from its internal port, which Knative's ingress never routes", () => {
    const monitor = only(
      objects.filter((o) => o.kind === 'ServiceMonitor'),
      'ServiceMonitor',
    )
    const metrics = only(
      objects.filter(
        (o) =>
          o.apiVersion === 'v1' &&
          o.kind === 'Service' &&
          Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v),
      ),
      'Service the ServiceMonitor selects',
    )
    const [endpoint] = monitor.spec.endpoints
    expect(endpoint.path).toBe('/metrics')
    const port = metrics.spec.ports.find((p: any) => p.name === endpoint.port)
    for (const service of knativeServices(objects)) {
      expect(service.spec.template.metadata.labels).toMatchObject(metrics.spec.selector)
      // The port each function serves /metrics on (startFunction reads INTERNAL_PORT), never the public one.
      const [container] = service.spec.template.spec.containers
      const internalPort = Number(container.env.find((e: any) => e.name === 'INTERNAL_PORT')?.value)
      expect(port.targetPort, service.metadata.name).toBe(internalPort)
      expect(internalPort).not.toBe(container.ports[0].containerPort)
      // queue-proxy's own ports in the same pod.
      expect([8012, 8013, 8022, 8112, 9090, 9091]).not.toContain(internalPort)
    }
    const policy = only(
      objects.filter((o) => o.kind === 'NetworkPolicy'),
      'NetworkPolicy',
    )
    const scrape = policy.spec.ingress.find((rule: any) =>
      rule.from.some(
        (peer: any) => peer.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring',
      ),
    )
    expect(scrape.ports).toEqual([{ protocol: 'TCP', port: port.targetPort }])
  })
})

describe('per-environment differences', () => {
  const built = Object.fromEntries(ENVIRONMENTS.map((env) => [env, buildOverlay(env)])) as Record<
    Environment,
    K8sObject[]
  >
  const images = (env: Environment) =>
    knativeServices(built[env]).map((s) => s.spec.template.spec.containers[0].image as string)
  const brokerOf = (env: Environment) => only(brokers(built[env]), 'Broker')

  it('tags images main in dev, staging in staging, and pins one release in prod', () => {
    expect(images('dev').every((image) => image.endsWith(':main'))).toBe(true)
    expect(images('staging').every((image) => image.endsWith(':staging'))).toBe(true)
    const prodTags = new Set(images('prod').map((image) => image.split(':').pop()))
    expect(prodTags.size).toBe(1)
    expect([...prodTags][0]).toMatch(/^v\d+\.\d+\.\d+$/)
  })

  it('runs dev on the in-memory channel broker, staging and prod on the durable Kafka broker', () => {
    const classOf = (env: Environment) => brokerOf(env).metadata.annotations?.['eventing.knative.dev/broker.class']
    expect(classOf('dev')).toBe('MTChannelBasedBroker')
    expect(classOf('staging')).toBe('Kafka')
    expect(classOf('prod')).toBe('Kafka')
    expect(brokerOf('prod').spec.config).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: 'kafka-broker-config',
      namespace: 'knative-eventing',
    })
    // The delivery the local broker imitates is the same everywhere.
    expect(brokerOf('dev').spec.delivery).toEqual(brokerOf('prod').spec.delivery)
  })

  it('keeps one warm api pod in prod only, and gives prod the widest bounds', () => {
    const api = (env: Environment) => serviceNamed(built[env], 'api')
    expect(annotation(api('dev'), 'min-scale')).toBe('0')
    expect(annotation(api('staging'), 'min-scale')).toBe('0')
    expect(annotation(api('prod'), 'min-scale')).toBe('1')
    for (const fn of functions) {
      const max = (env: Environment) => Number(annotation(serviceNamed(built[env], fn), 'max-scale'))
      expect(max('dev'), fn).toBeLessThanOrEqual(max('staging'))
      expect(max('staging'), fn).toBeLessThanOrEqual(max('prod'))
    }
  })

  it('points dev and staging at their own data services, the ones argocd/data-services.yaml deploys', () => {
    const dataApps = buildArgocd().filter((o) => o.kind === 'Application')
    for (const env of ['dev', 'staging'] as const) {
      const app = only(
        dataApps.filter((a) => a.spec.destination.namespace === `youtube-rag-${env}-data`),
        `data services of ${env}`,
      )
      const release = (chart: string) =>
        only<any>(
          app.spec.sources.filter((s: any) => s.chart === chart),
          chart,
        ).helm.releaseName as string
      const suffix = `.youtube-rag-${env}-data.svc.cluster.local`
      const config = configMap(built[env]).data!
      expect(config.YOUTUBE_RAG__DOCUMENT_DB__HOST).toBe(`${release('mongodb')}${suffix}`)
      expect(config.YOUTUBE_RAG__VECTOR_DB__HOST).toBe(`${release('qdrant')}${suffix}`)
      expect(config.YOUTUBE_RAG__BLOB_STORAGE__ENDPOINT).toBe(`http://${release('minio')}${suffix}:9000`)
      // Bitnami's standalone Redis serves as <release>-master.
      expect(config.YOUTUBE_RAG__RATE_LIMIT__REDIS_URL).toBe(`redis://${release('redis')}-master${suffix}:6379`)
    }
    // prod's stores are managed: no in-cluster address is left in its ConfigMap.
    expect(JSON.stringify(configMap(built.prod).data)).not.toMatch(/svc\.cluster\.local|minio|redis-master/)
  })

  it('maps the public API to its own domain with TLS in prod only', () => {
    expect(built.dev.some((o) => o.kind === 'DomainMapping')).toBe(false)
    expect(built.staging.some((o) => o.kind === 'DomainMapping')).toBe(false)
    const mapping = only(
      built.prod.filter((o) => o.kind === 'DomainMapping'),
      'DomainMapping',
    )
    expect(mapping.spec.ref).toEqual({ apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'api' })
    const certificate = only(
      built.prod.filter((o) => o.kind === 'Certificate'),
      'Certificate',
    )
    expect(certificate.spec.dnsNames).toEqual([mapping.metadata.name])
    expect(certificate.spec.secretName).toBe(mapping.spec.tls.secretName)
  })
})
