import { intSetting, optionalSetting, stringSetting } from '../setting.js';

/** Settings of the audit service and of the trail every other service delivers through. */

export const AUDIT_CHECKPOINT_KEY_FILE = optionalSetting({
  name: 'MAYFLY_AUDIT_CHECKPOINT_KEY_FILE',
  readBy: ['audit', 'mayfly CLI'],
  defaultText: 'unset (a key for the process only; `npm start`: `.mayfly/audit-checkpoint-key.jwk`)',
  description: 'Ed25519 private JWK the audit service signs chain checkpoints with; give its public half to `mayfly audit verify --public-key`',
});
export const AUDIT_CHECKPOINT_MS = intSetting({
  name: 'MAYFLY_AUDIT_CHECKPOINT_MS',
  readBy: ['audit'],
  default: 60_000,
  min: 100,
  description: "how often the chain's head is signed into a checkpoint (when it moved) and its signed head re-published on NATS (always)",
});
export const AUDIT_HEAD_STREAM = stringSetting({
  name: 'MAYFLY_AUDIT_HEAD_STREAM',
  readBy: ['audit', 'mayfly CLI'],
  default: 'MAYFLY_AUDIT_HEAD',
  description: "where the audit chain's signed head is kept outside the database (JetStream; only the audit service's NATS user may publish, nobody may purge)",
});
export const AUDIT_HEAD_SUBJECT = stringSetting({ name: 'MAYFLY_AUDIT_HEAD_SUBJECT', readBy: ['audit', 'mayfly CLI'], default: 'mayfly.audit.head', description: 'the one subject of that stream' });
export const AUDIT_HEAD_COALESCE_MS = intSetting({ name: 'MAYFLY_AUDIT_HEAD_COALESCE_MS', readBy: ['audit'], default: 250, min: 10, max: 60_000, description: 'how soon after an append the signed head is published (appends within it share one)' });
export const AUDIT_MAX_ATTEMPTS = intSetting({
  name: 'MAYFLY_AUDIT_MAX_ATTEMPTS',
  readBy: ['attestation', 'decision', 'issuance', 'revocation'],
  default: 5,
  min: 1,
  max: 1000,
  description: 'refusals of one audit event by the audit service before it is dead-lettered',
});
export const AUDIT_DELIVERY_LINGER_MS = intSetting({
  name: 'MAYFLY_AUDIT_DELIVERY_LINGER_MS',
  readBy: ['attestation', 'decision', 'issuance', 'revocation'],
  // 50 rather than 10 (measured, BENCHMARKS "The audit delivery linger"): at one caller a
  // delivery then carries about ten grants' records instead of two, which halves the audit
  // service's CPU per grant; nothing waits for delivery, the outbox row is the record.
  default: 50,
  min: 0,
  max: 1000,
  description: 'how long committed audit events wait for company before they are sent to the audit service (they are on record already; issuance never waits for this); 0 sends at once',
});
export const AUDIT_STATUS_CACHE_MS = intSetting({
  name: 'MAYFLY_AUDIT_STATUS_CACHE_MS',
  readBy: ['audit'],
  default: 60_000,
  min: 1_000,
  max: 3_600_000,
  description: "how long the audit service's own chain check (ChainStatus, the console's audit page) is reused before the trail is checked again",
});
