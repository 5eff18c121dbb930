export * from './ports.ts'
export * from './openai/index.ts'
export { languageCode } from './openai/languages.ts'
export * from './answer/index.ts'
