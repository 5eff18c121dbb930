export * from './search/index.ts'
export * from './extractive/index.ts'
export * from './moment/index.ts'
