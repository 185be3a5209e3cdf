export { auditEvent, type AuditEventInput, type Outcome } from './audit-event.js';
export { AuditTrail, auditTrailFromEnv, type AuditTrailOptions } from './audit-trail.js';
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
} from './checkpoint.js';
export { readAuditChain } from './read-chain.js';
