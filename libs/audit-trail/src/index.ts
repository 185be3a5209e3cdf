export { auditEvent, type AuditEventInput, type Outcome } from './audit-event.js';
export { AuditTrail, auditTrailFromEnv, type AuditTrailOptions } from './audit-trail.js';
export { verifyAuditChain, type ChainLink, type ChainProblem, type ChainReport, type StoredCheckpoint, type StoredEvent } from './chain-verification.js';
export { checkpointSignatureValid, ed25519PrivateKey, ed25519PublicKey, signCheckpoint, type Checkpoint } from './checkpoint.js';
export { readAuditChain } from './read-chain.js';
