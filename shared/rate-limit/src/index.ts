export * from './api-keys/index.ts'
export * from './limiter/index.ts'
export * from './middleware/index.ts'
export * from './from-config/index.ts'
