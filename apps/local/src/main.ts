import { ConfigError } from '@ytrag/config'
import { startLocalServer } from './index.ts'

try {
  const server = await startLocalServer({ env: process.env, handleSignals: true, chooseYtDlp: true })
  process.stderr.write(
    `youtube-rag is listening on ${server.url} (stores in ${server.config.storage.dir}); try ${server.url}/docs\n`,
  )
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`)
    process.exit(2)
  }
  throw error
}
