import { startFunction } from '@ytrag/function'
import { discover } from './index.ts'

await startFunction(discover)
