export * from './progress/index.ts'
