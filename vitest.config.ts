import { defineConfig } from 'vitest/config'

/**
 * Library tests that talk to a server (MongoDB or FerretDB, Redis, an S3 server they start) or run
 * yt-dlp many times over: they run with the integration lane, so the unit lane stays fast.
 */
const NEEDS_SERVICES = [
  'shared/stores/src/documents/mongo/**/*.test.ts',
  'shared/stores/src/blobs/s3/**/*.test.ts',
  'shared/function/src/dependencies/**/*.test.ts',
  'shared/rate-limit/src/limiter/**/*.test.ts',
  'shared/youtube/src/ytdlp/index.test.ts',
  'apps/cli/src/doctor/**/*.test.ts',
]
/** Starts FerretDB unless MONGODB_URL is set; only the lanes that use it pay for it. */
const FERRETDB = ['vitest.global-setup/ferretdb.ts']

/**
 * Five lanes, run in this order by `vitest run` (`npm test`), or one alone with `--project NAME`:
 * - unit: libraries' own tests, no services (under 30 s on 2 idle cores);
 * - integration: each function over real HTTP, the stores' adapters against MongoDB and Redis,
 *   the deployment, security, interop, monitoring and docs checks;
 * - e2e: the local server as a user runs it, every function in one process, with its CLI;
 * - web: the page at `/` in Debian's headless Chromium, against the local server;
 * - images: the functions' bundles and OCI images (builds them; slow the first time).
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own temporary stores, but yt-dlp and ffmpeg are heavy on 2 cores.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'shared/*/src/**/*.test.ts',
            'apps/*/src/**/*.test.ts',
            'shared/broker/test/**/*.test.ts',
            'apps/bench/**/*.test.ts',
          ],
          exclude: NEEDS_SERVICES,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            ...NEEDS_SERVICES,
            'functions/*/test/**/*.test.ts',
            'test/deploy/**/*.test.ts',
            'test/security/**/*.test.ts',
            'test/interop/**/*.test.ts',
            'test/monitoring/**/*.test.ts',
            'test/docs/**/*.test.ts',
          ],
          globalSetup: FERRETDB,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['apps/local/test/**/*.test.ts'],
          globalSetup: FERRETDB,
          sequence: { groupOrder: 2 },
        },
      },
      {
        extends: true,
        test: { name: 'web', include: ['test/web/**/*.test.ts'], sequence: { groupOrder: 3 } },
      },
      {
        extends: true,
        test: { name: 'images', include: ['test/images/**/*.test.ts'], sequence: { groupOrder: 4 } },
      },
    ],
  },
})
