// .github/workflows/ci.yml: tests on every push against real stores, the manifest checks, and
// one multi-arch image per function, tagged the way the release process and Argo CD expect.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { functionNames, readWorkflow, ROOT, workflowMatrixFunctions } from './support.ts'

const workflow = readWorkflow()
const { lint, test, manifests, images } = workflow.jobs
const runs = (job: any) => job.steps.map((step: any) => step.run ?? '').join('\n')
const uses = (job: any, action: string) => job.steps.find((step: any) => String(step.uses).startsWith(`${action}@`))

describe('the ci workflow', () => {
  it('runs on every push and pull request, and on the release tags', () => {
    expect(workflow.on.push.branches).toEqual(['**'])
    expect(workflow.on.push.tags).toEqual(['v*', 'staging-*'])
    expect(workflow.on).toHaveProperty('pull_request')
    expect(workflow.permissions).toEqual({ contents: 'read' })
  })

  it('tests against Qdrant, MongoDB and Redis service containers and a MinIO server', () => {
    expect(Object.keys(test.services).sort()).toEqual(['mongodb', 'qdrant', 'redis'])
    expect(test.services.qdrant.image).toMatch(/^qdrant\/qdrant:v\d/)
    expect(test.services.mongodb.image).toMatch(/^mongo:\d/)
    expect(test.services.redis.image).toMatch(/^redis:\d/)
    expect(test.services.redis.ports).toEqual(['6379:6379'])
    // QDRANT_URL turns the Qdrant conformance suite on; MONGODB_URL replaces the local FerretDB.
    expect(test.env).toMatchObject({
      QDRANT_URL: 'http://127.0.0.1:6333',
      MONGODB_URL: 'mongodb://127.0.0.1:27017/',
      REDIS_URL: 'redis://127.0.0.1:6379',
    })
    expect(runs(test)).toMatch(/docker run [\s\S]*minio\/minio:RELEASE\.\S+ server \/data/)
    expect(runs(test)).toContain('bash scripts/system-deps.sh')
    expect(runs(test)).toContain('npm test')
  })

  it('validates the manifests with the test/deploy suite, and on a v* tag checks that prod pins it', () => {
    const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['test:deploy'] as string
    expect(script).toContain('test/deploy')
    expect(runs(manifests)).toContain('node scripts/bootstrap.mjs test:deploy')
    const pinCheck = manifests.steps.find((step: any) => String(step.run).includes('knative/overlays/prod'))
    expect(pinCheck.if).toBe("startsWith(github.ref, 'refs/tags/v')")
    expect(pinCheck.run).toContain('$GITHUB_REF_NAME')
  })

  it('lints (Biome and knip) in a job of its own', () => {
    const script = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.lint as string
    expect(script).toMatch(/\bbiome ci\b/)
    expect(script).toMatch(/\bknip\b/)
    expect(runs(lint)).toContain('node scripts/bootstrap.mjs lint')
  })

  it('builds every function, and only functions, for amd64 and arm64, after the tests and lint pass', () => {
    expect([...workflowMatrixFunctions(workflow)].sort()).toEqual(functionNames())
    expect(images.needs).toEqual(['lint', 'test', 'manifests'])
    expect(images.if).toContain("github.ref == 'refs/heads/main'")
    expect(images.if).toContain("startsWith(github.ref, 'refs/tags/v')")
    expect(images.if).toContain("startsWith(github.ref, 'refs/tags/staging-')")
    expect(images.permissions).toEqual({ contents: 'read', packages: 'write' })
    expect(uses(images, 'docker/setup-qemu-action')).toBeDefined()
    const build = uses(images, 'docker/build-push-action').with
    expect(build.platforms.split(',')).toEqual(['linux/amd64', 'linux/arm64'])
    // On the same Debian trixie base the Dockerfile defaults to (and scripts/images/base.sh makes): yt-dlp from trixie-backports.
    const dockerfileBase = /^ARG BASE_IMAGE=(\S+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1]
    expect(dockerfileBase).toMatch(/trixie/)
    expect(String(build['build-args']).trim().split('\n')).toEqual([
      'FUNCTION=${{ matrix.function }}',
      `BASE_IMAGE=${dockerfileBase}`,
    ])
    expect(build.push).toBe(true)
    expect(uses(images, 'docker/login-action').with.registry).toBe('ghcr.io')
  })

  it('tags each image with its full commit SHA (what dev and staging run), its branch or tag, and staging', () => {
    const tags = String(uses(images, 'docker/metadata-action').with.tags).trim().split('\n')
    expect(tags).toEqual([
      'type=sha,format=long,prefix=',
      'type=ref,event=branch',
      'type=ref,event=tag',
      "type=raw,value=staging,enable=${{ startsWith(github.ref, 'refs/tags/staging-') }}",
    ])
  })

  it('moves the staging tag only after the images of a staging-* tag are pushed', () => {
    const promote = workflow.jobs['promote-staging']
    expect(promote.needs).toBe('images')
    expect(promote.if).toBe("startsWith(github.ref, 'refs/tags/staging-')")
    expect(promote.permissions).toEqual({ contents: 'write' })
    expect(runs(promote)).toContain('git tag --force staging "$GITHUB_SHA"')
  })
})
