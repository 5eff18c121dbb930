export { parseIsoDuration } from './duration/index.ts'
export {
  knativeBaseDir,
  readBrokerWiring,
  type BrokerSpec,
  type BrokerWiring,
  type DeliverySpec,
  type PingSourceSpec,
  type ReadBrokerWiringOptions,
  type TriggerSpec,
} from './manifests/index.ts'
export {
  createLocalBroker,
  serviceAddress,
  type BrokerLogger,
  type LocalBroker,
  type LocalBrokerOptions,
  type LocalBrokerStats,
} from './local-broker/index.ts'
export {
  MemoryDeliveryQueue,
  SqliteDeliveryQueue,
  type DeliveryQueue,
  type DeliveryStage,
  type NewDelivery,
  type QueuedDelivery,
  type SqliteDeliveryQueueOptions,
} from './delivery-queue/index.ts'
export { readDeadLetterInfo, type DeadLetterInfo } from './dead-letter/index.ts'
