import { startFunction } from '@ytrag/function'
import { download } from './index.ts'

await startFunction(download)
