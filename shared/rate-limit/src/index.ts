export * from './limiter/index.ts'
export * from './middleware/index.ts'
