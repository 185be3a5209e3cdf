export { auditEvent, type AuditEventInput, type Outcome } from '@mayfly/model';
export { AuditTrail, auditTrailFromEnv, type AuditTrailOptions } from './audit-trail.js';
export { grpcAuditSink, postgresAuditOutbox, type AuditOutbox, type AuditSink } from './ports.js';
export { auditedTransaction, type AuditedChange, type AuditedTransactionOptions } from './audited-transaction.js';
export { verifyAuditChain, type ChainLink, type ChainProblem, type ChainReport, type Completeness, type ExternalRecord, type StoredCheckpoint, type StoredEvent } from './chain-verification.js';
export {
  chainHeadSignatureValid,
  checkpointSignatureValid,
  decodeChainHead,
  ed25519PrivateKey,
  ed25519PublicKey,
  encodeChainHead,
  signChainHead,
  signCheckpoint,
  type ChainHead,
  type Checkpoint,
  type SignedChainHead,
} from '@mayfly/model';
export { readAuditChain } from './read-chain.js';
