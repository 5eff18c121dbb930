export {
  guardedFetch,
  GuardedFetchError,
  type GuardedFetchErrorCode,
  type GuardedFetchOptions,
  type GuardedResponse,
} from './fetch.ts'
export {
  egressProxyFor,
  redactProxyUrl,
  REFUSAL_PREFIX,
  startEgressProxy,
  type EgressProxy,
  type EgressProxyOptions,
  type EgressRefusal,
} from './proxy.ts'
