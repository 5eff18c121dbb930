export * from './factory/index.ts'
export * from './metrics/index.ts'
export * from './serve/index.ts'
export * from './start/index.ts'
