// What Mayfly keeps and the formats it signs, with no I/O: domain code may import this
// (see .dependency-cruiser.cjs); the database adapter stores these records as they are.
export * from './records.js';
export { toGrantMessage, toWorkloadMessage } from './contract-messages.js';
export { sessionRefusal } from './session-refusal.js';
export { auditEvent, type AuditEventInput, type Outcome } from './audit-event.js';
export { AUDIT_LIMITS, boundDetail, boundText } from './bounded-detail.js';
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
