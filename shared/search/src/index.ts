export * from './search/index.ts'
export * from './extractive/index.ts'
