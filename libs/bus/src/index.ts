export { connectBus } from './connection.js';
export {
  deleteRevocationStream,
  ensureRevocationStream,
  grantRevocationSubject,
  type RevocationStreamConfig,
} from './revocation-stream.js';
export { RevocationPublisher } from './revocation-publisher.js';
export { subscribeRevocations, type RevocationSubscription, type SubscribeOptions } from './revocation-subscriber.js';
export type { NatsConnection } from '@nats-io/transport-node';
