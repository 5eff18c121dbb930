// The PrometheusRule checked by Prometheus's own promtool: `check rules` (the expressions parse,
// the templates render) and `test rules` (rules.test.yaml: each alert fires on its series and
// stays quiet on a near miss). promtool comes from `bash scripts/promtool.sh` (built once from
// the Prometheus Go module, cached; .ci/run does it and sets PROMTOOL). In CI a missing promtool
// fails here; elsewhere the suite is skipped with a warning saying how to get it.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KNATIVE_BASE, only, readYaml } from '../deploy/support.ts'

const DEFAULT_PROMTOOL = '/var/tmp/ytrag-tools/promtool-v0.316.0/promtool'
const promtool = [process.env.PROMTOOL, DEFAULT_PROMTOOL].find(
  (candidate): candidate is string => !!candidate && existsSync(candidate),
)
const missing =
  'promtool not found: run `bash scripts/promtool.sh` (builds it from the Prometheus Go module) and set PROMTOOL to the path it prints'
if (!promtool && !process.env.CI) console.warn(`test/monitoring/rules skipped: ${missing}`)

const rule = only(readYaml(join(KNATIVE_BASE, 'monitoring/prometheusrule.yaml')), 'PrometheusRule')
const ALERTS = [
  'YtragApiErrorRate',
  'YtragApiLatencyHigh',
  'YtragDeadLetters',
  'YtragJobsStuck',
  'YtragChannelSyncFailing',
  'YtragSpendOverBudget',
]

const run = (...args: string[]) => spawnSync(promtool!, args, { encoding: 'utf8', cwd: work })
let work: string

describe('the PrometheusRule', () => {
  it('has every alert the deployment asks for, each with a unit test', () => {
    const alerts = rule.spec.groups.flatMap((group: { rules: { alert?: string }[] }) => group.rules.map((r) => r.alert))
    expect(alerts).toEqual(ALERTS)
    const tests = readYaml(join(import.meta.dirname, 'rules.test.yaml'))[0].tests as {
      alert_rule_test: { alertname: string }[]
    }[]
    const tested = new Set(tests.flatMap((test) => test.alert_rule_test.map((t) => t.alertname)))
    expect([...tested].sort()).toEqual([...ALERTS].sort())
  })

  // In CI promtool must be there: a missing one fails instead of skipping. Skipped wherever
  // promtool is found (every CI run here) or off CI, where the suite below warns instead.
  it.runIf(!!process.env.CI && !promtool)('has promtool to check it (CI)', () => {
    throw new Error(missing)
  })
})

// Skipped only off CI when promtool is not built here (a Go build of minutes): the warning above
// says how to get it; in CI the test before this one fails instead.
describe.skipIf(!promtool)('promtool', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ytrag-promtool-'))
    // promtool reads plain rule files: the PrometheusRule's spec is one.
    writeFileSync(join(work, 'rules.yaml'), JSON.stringify({ groups: rule.spec.groups }))
    copyFileSync(join(import.meta.dirname, 'rules.test.yaml'), join(work, 'rules.test.yaml'))
  })
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  it('check rules: every expression and template is valid', () => {
    const checked = run('check', 'rules', 'rules.yaml')
    expect(checked.stderr + checked.stdout).toContain(`SUCCESS: ${ALERTS.length} rules found`)
    expect(checked.status).toBe(0)
  })

  it('test rules: each alert fires when it should and not otherwise', () => {
    const tested = run('test', 'rules', 'rules.test.yaml')
    expect(tested.stdout + tested.stderr).toContain('SUCCESS')
    expect(tested.status).toBe(0)
  })

  it('test rules fails when an alert does not fire as its test expects', () => {
    // The same tests against a rule file whose API error threshold is raised past 10%: the
    // first test's expected alert no longer fires, and promtool says so.
    const loosened = JSON.stringify({ groups: rule.spec.groups }).replace('> 0.05', '> 0.5')
    writeFileSync(join(work, 'rules.yaml'), loosened)
    try {
      const tested = run('test', 'rules', 'rules.test.yaml')
      expect(tested.status).not.toBe(0)
      expect(tested.stdout + tested.stderr).toContain('YtragApiErrorRate')
    } finally {
      writeFileSync(join(work, 'rules.yaml'), JSON.stringify({ groups: rule.spec.groups }))
    }
  })
})
