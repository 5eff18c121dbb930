import { startFunction } from '@ytrag/function'
import { indexer } from './index.ts'

await startFunction(indexer)
