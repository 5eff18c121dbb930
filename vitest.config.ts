import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['shared/*/src/**/*.test.ts', 'shared/*/test/**/*.test.ts', 'functions/*/test/**/*.test.ts', 'test/deploy/**/*.test.ts', 'test/security/**/*.test.ts', 'test/images/**/*.test.ts', 'test/interop/**/*.test.ts', 'test/monitoring/**/*.test.ts', 'test/docs/**/*.test.ts', 'test/web/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own temporary stores, but yt-dlp and ffmpeg are heavy on 2 cores.
    maxWorkers: 2,
    globalSetup: ['vitest.global-setup/ferretdb.ts'],
  },
})
