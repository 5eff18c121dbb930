import { startFunction } from '@ytrag/function'
import { api } from './index.ts'

await startFunction(api)
