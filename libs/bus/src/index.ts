export { acceptsAnonymous, connectBus, parseNatsUrl } from './connection.js';
export {
  deleteRevocationStream,
  ensureRevocationStream,
  controlStreamName,
  grantRevocationSubject,
  revocationSubject,
  heartbeatSubject,
  readResyncMarker,
  readStreamSnapshot,
  resyncMarkerSubject,
  type ResyncMarker,
  type RevocationStreamConfig,
  type StreamSnapshot,
} from './revocation-stream.js';
export { RevocationPublisher } from './revocation-publisher.js';
export { CREDENTIAL_REAPER_CONSUMER, followRevocationsDurably, type DurableRevocationOptions, type DurableRevocations } from './revocation-durable.js';
export { subscribeRevocations, type FeedState, type RevocationSubscription, type SubscribeOptions } from './revocation-subscriber.js';
export type { NatsConnection } from '@nats-io/transport-node';
export { APPROVALS_PENDING_SUBJECT, BREAK_GLASS_ALERT_SUBJECT, natsAuthorizationConfig, revocationPermissions, type NatsLayout, type NatsUsers, type Permissions } from './nats-permissions.js';
export { AuditHeadMissing, ensureAuditHeadStream, publishAuditHead, readAuditHead, type AuditHeadStreamConfig } from './audit-head-stream.js';
export { FeedFreshness, type FeedHeartbeat } from './feed-freshness.js';
export {
  FEED_SIGNATURE_HEADER,
  eventSigningInput,
  feedSigner,
  heartbeatSigningInput,
  markerSigningInput,
  staticFeedKeys,
  verifyFeedSignature,
  type FeedKeyLookup,
  type FeedSigner,
  type FeedVerdict,
} from './feed-signature.js';
