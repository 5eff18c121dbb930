// The functions, the Knative wiring, the image build and the local broker agree, in every
// overlay; and the check notices when they stop agreeing.
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../shared/config/src/index.ts'
import { knativeBaseDir, readBrokerWiring } from '../../shared/broker/src/manifests/index.ts'
import { consistencyProblems, imageFunction, type Deployment } from './consistency.ts'
import {
  applicationSetImageFunctions,
  buildArgocd,
  buildOverlay,
  emittedEventNames,
  ENVIRONMENTS,
  functionNames,
  IMAGE_PREFIX,
  only,
  workflowMatrixFunctions,
  type K8sObject,
} from './support.ts'

const functions = functionNames()
const deploymentOf = (objects: K8sObject[]): Deployment => ({
  objects,
  functions,
  emits: Object.fromEntries(functions.map((fn) => [fn, emittedEventNames(fn)])),
  workflowFunctions: workflowMatrixFunctions(),
  applicationSetFunctions: applicationSetImageFunctions(
    only(
      buildArgocd().filter((o) => o.kind === 'ApplicationSet'),
      'ApplicationSet',
    ),
  ),
  localWiring: readBrokerWiring(knativeBaseDir),
})

describe('what the functions emit', () => {
  it('is read from their source: every function but dead-letter emits', () => {
    expect(functions).toEqual(
      expect.arrayContaining(['api', 'dead-letter', 'discover', 'download', 'indexer', 'transcribe']),
    )
    expect(emittedEventNames('api').sort()).toEqual(['channel.resync.requested', 'ingest.requested'])
    expect(emittedEventNames('discover')).toContain('video.discovered')
    expect(emittedEventNames('download')).toEqual(
      expect.arrayContaining(['audio.segment.ready', 'transcript.ready', 'video.failed']),
    )
    expect(emittedEventNames('transcribe')).toContain('transcript.ready')
    expect(emittedEventNames('indexer')).toContain('video.indexed')
    expect(emittedEventNames('dead-letter')).toEqual([])
  })

  it('dead-letter records failures without sending: it has no K_SINK', () => {
    expect(emittedEventNames('dead-letter')).toEqual([])
  })

  it('names images by function', () => {
    expect(IMAGE_PREFIX).toMatch(/^ghcr\.io\/[a-z0-9-]+\/[a-z0-9._-]+\/$/)
    expect(imageFunction(`${IMAGE_PREFIX}dead-letter:v1.0.0`)).toBe('dead-letter')
    expect(imageFunction(`${IMAGE_PREFIX}api@sha256:abc`)).toBe('api')
    expect(imageFunction('docker.io/library/nginx:1')).toBeUndefined()
  })
})

describe.each(ENVIRONMENTS)('the %s overlay', (env) => {
  const objects = buildOverlay(env)

  it('is consistent with the functions, the workflow, the ApplicationSet and the local broker', () => {
    expect(consistencyProblems(deploymentOf(objects))).toEqual([])
  })

  it('fails the check when a Trigger is removed from it', () => {
    const trimmed = objects.filter((o) => !(o.kind === 'Trigger' && o.metadata.name === 'download-video-discovered'))
    expect(trimmed).toHaveLength(objects.length - 1)
    const problems = consistencyProblems(deploymentOf(trimmed))
    expect(problems).toContain('function discover emits io.youtube-rag.video.discovered.v1, but no Trigger takes it')
    expect(
      problems.some((p) => p.startsWith("the local broker's routes differ") && p.includes('download-video-discovered')),
    ).toBe(true)
  })

  it('fails the check when the Service a Trigger delivers to, or the dead-letter sink, is missing', () => {
    const withoutIndexer = objects.filter(
      (o) => !(o.kind === 'Service' && o.apiVersion === 'serving.knative.dev/v1' && o.metadata.name === 'indexer'),
    )
    expect(consistencyProblems(deploymentOf(withoutIndexer))).toEqual(
      expect.arrayContaining([
        'function indexer has no Knative Service',
        "Trigger indexer-transcript-ready's subscriber Service indexer is not a deployed Knative Service",
      ]),
    )
    const withoutDeadLetter = objects.filter((o) => !(o.kind === 'Service' && o.metadata.name === 'dead-letter'))
    expect(consistencyProblems(deploymentOf(withoutDeadLetter)).some((p) => p.includes('dead-letter sink'))).toBe(true)
  })

  it('fails the check when an emitting function loses its SinkBinding, or a Service runs another image', () => {
    const unbound = objects.filter((o) => !(o.kind === 'SinkBinding' && o.spec.subject.name === 'indexer'))
    expect(consistencyProblems(deploymentOf(unbound))).toContain(
      'function indexer emits events but no SinkBinding gives it the Broker as K_SINK',
    )

    const swapped = structuredClone(objects)
    const download = swapped.find((o) => o.kind === 'Service' && o.metadata.name === 'download')!
    download.spec.template.spec.containers[0].image = `${IMAGE_PREFIX}summarize:main`
    expect(consistencyProblems(deploymentOf(swapped))).toContain(
      `Knative Service download runs ${IMAGE_PREFIX}summarize:main, which is no function's image`,
    )
    download.spec.template.spec.containers[0].image = `${IMAGE_PREFIX}indexer:main`
    expect(consistencyProblems(deploymentOf(swapped))).toContain('Knative Service download runs the image of indexer')
  })
})

describe('adding a function or an event', () => {
  const objects = buildOverlay('dev')

  it('fails the check until the new function has a Service, a matrix entry and an image pin', () => {
    const problems = consistencyProblems({ ...deploymentOf(objects), functions: [...functions, 'summarize'] })
    expect(problems).toEqual(
      expect.arrayContaining([
        'function summarize has no Knative Service',
        expect.stringMatching(/^the workflow's image matrix lists .* the functions are .*summarize/),
        expect.stringMatching(/^the ApplicationSet pins the images of .* the functions are .*summarize/),
      ]),
    )
  })

  it('fails the check when a function emits an event no Trigger takes', () => {
    expect(deploymentOf(objects).emits.download).toContain('audio.segment.ready')
    const trimmed = objects.filter(
      (o) => !(o.kind === 'Trigger' && o.metadata.name === 'transcribe-audio-segment-ready'),
    )
    expect(consistencyProblems(deploymentOf(trimmed))).toContain(
      'function download emits io.youtube-rag.audio.segment.ready.v1, but no Trigger takes it',
    )
    const deployment = deploymentOf(objects)
    const emits = { ...deployment.emits, indexer: [...deployment.emits.indexer!, 'video.summarized'] }
    expect(consistencyProblems({ ...deployment, emits })).toContain(
      'function indexer emits video.summarized, which is not in the event catalog',
    )
  })

  it('fails the check when a Trigger delivers to a function that is not deployed', () => {
    const withSummarizeTrigger = [
      ...objects,
      {
        apiVersion: 'eventing.knative.dev/v1',
        kind: 'Trigger',
        metadata: { name: 'summarize-video-indexed', namespace: 'youtube-rag-dev' },
        spec: {
          broker: 'default',
          filter: { attributes: { type: 'io.youtube-rag.video.indexed.v1' } },
          subscriber: { ref: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', name: 'summarize' } },
        },
      },
    ]
    expect(consistencyProblems(deploymentOf(withSummarizeTrigger))).toEqual(
      expect.arrayContaining([
        "Trigger summarize-video-indexed's subscriber Service summarize is not a deployed Knative Service",
      ]),
    )
  })

  it('fails the check when the local broker would route differently from the cluster', () => {
    const deployment = deploymentOf(objects)
    const localWiring = {
      ...deployment.localWiring,
      triggers: deployment.localWiring.triggers.filter((t) => t.name !== 'api-video-failed'),
    }
    expect(consistencyProblems({ ...deployment, localWiring })).toEqual([
      "the local broker's routes differ from the cluster's: only local [], only in the cluster [api-video-failed: io.youtube-rag.video.failed.v1 -> api]",
    ])
  })
})

describe('the reaper', () => {
  // A stage is stuck once it has been quiet for longer than its function's request timeout: the
  // defaults of YOUTUBE_RAG__REAPER__*_TIMEOUT_SECONDS are the Knative Services' timeoutSeconds.
  it.each(ENVIRONMENTS)(
    'waits exactly as long as each pipeline Service may take one request, in the %s overlay',
    (env) => {
      const timeouts = Object.fromEntries(
        buildOverlay(env)
          .filter((o) => o.kind === 'Service' && o.apiVersion.startsWith('serving.knative.dev/'))
          .map((o) => [o.metadata.name, o.spec.template.spec.timeoutSeconds]),
      )
      const { reaper } = loadConfig({})
      expect({
        discover: reaper.discoverTimeoutSeconds,
        download: reaper.downloadTimeoutSeconds,
        transcribe: reaper.transcribeTimeoutSeconds,
        indexer: reaper.indexerTimeoutSeconds,
      }).toEqual({
        discover: timeouts.discover,
        download: timeouts.download,
        transcribe: timeouts.transcribe,
        indexer: timeouts.indexer,
      })
    },
  )
})
