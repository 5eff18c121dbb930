import { startFunction } from '@ytrag/function'
import { sweepAbandonedScratchDirs } from '@ytrag/youtube'
import { download } from './index.ts'

// A container restarted in its pod keeps /tmp (an emptyDir): what a killed run left goes first.
await sweepAbandonedScratchDirs()
await startFunction(download)
