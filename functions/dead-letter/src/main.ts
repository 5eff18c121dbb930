import { startFunction } from '@ytrag/function'
import { deadLetter } from './index.ts'

await startFunction(deadLetter)
