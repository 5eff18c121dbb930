import { startFunction } from '@ytrag/function'
import { transcribe } from './index.ts'

await startFunction(transcribe)
