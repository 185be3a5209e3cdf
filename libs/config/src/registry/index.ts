import type { Setting } from '../setting.js';
import type { SettingFamily } from './family.js';
import * as attestation from './attestation.js';
import * as audit from './audit.js';
import * as decision from './decision.js';
import * as issuance from './issuance.js';
import * as mesh from './mesh.js';
import * as operator from './operator.js';
import * as revocation from './revocation.js';

export * from './attestation.js';
export * from './audit.js';
export * from './decision.js';
export * from './issuance.js';
export * from './mesh.js';
export * from './operator.js';
export * from './revocation.js';
export type { SettingFamily } from './family.js';

export type RegistryEntry = Setting<unknown> | SettingFamily;

/** Every setting, in the order of the README's configuration table. */
export const SETTINGS: readonly RegistryEntry[] = [
  mesh.SERVICE_PORT,
  mesh.SERVICE_ADDRESS,
  mesh.HEALTH_PORT,
  mesh.METRICS_PORT,
  mesh.HOST,
  mesh.TLS_CA_FILE,
  mesh.TLS_CERT_FILE,
  mesh.TLS_KEY_FILE,
  mesh.TLS_RELOAD_MS,
  mesh.GRPC_MAX_CONNECTION_AGE_MS,
  mesh.TRUST_DOMAIN,
  mesh.INSECURE_DEV,
  mesh.DATABASE_URL,
  mesh.NATS_URL,
  mesh.NATS_CA_FILE,
  mesh.DRAIN_SECONDS,
  mesh.LOG_LEVEL,
  issuance.ISSUANCE_HTTP_PORT,
  issuance.TOKEN_ISSUER,
  issuance.DEFAULT_TTL_SECONDS,
  issuance.MAX_TTL_SECONDS,
  issuance.MAX_GRANT_SECONDS,
  issuance.BREAK_GLASS_MAX_SECONDS,
  issuance.MAX_DELEGATION_DEPTH,
  issuance.GRANT_RATE_PER_SECOND,
  issuance.GRANT_RATE_BURST,
  issuance.GRANT_COMMIT_MAX_BATCH,
  issuance.GRANT_COMMIT_CONCURRENCY,
  issuance.DECIDE_MAX_BATCH,
  issuance.DECIDE_CONCURRENCY,
  issuance.UNAUTHENTICATED_RATE_PER_PEER,
  issuance.UNAUTHENTICATED_BURST_PER_PEER,
  issuance.SIGNING_KEYRING_DIR,
  issuance.SIGNING_KEYRING_RELOAD_MS,
  issuance.SIGNING_KEY_RETIRE_GRACE_SECONDS,
  issuance.REVOKED_KEYS_POLL_MS,
  issuance.SESSION_CHECK_CACHE_MS,
  issuance.GRANT_READER_GROUPS,
  issuance.APPROVER_ISSUER,
  issuance.APPROVER_AUDIENCE,
  issuance.APPROVER_JWKS_URL,
  issuance.APPROVER_JWKS,
  issuance.APPROVER_GROUPS_CLAIM,
  issuance.APPROVER_MAX_AGE_SECONDS,
  issuance.LOGIN_RECONCILE_MS,
  issuance.RESOURCE_CACHE_MS,
  decision.POLICY_DIR,
  decision.POLICY_CHECK_MS,
  attestation.CLOCK_TOLERANCE_SECONDS,
  attestation.ISSUER_CACHE_MS,
  attestation.ISSUER_CA_FILE,
  attestation.WORKLOAD_TRUST_DOMAINS,
  attestation.WORKLOAD_CA_FILE,
  attestation.WORKLOAD_CA_KEY_FILE,
  attestation.SVID_MAX_SECONDS,
  attestation.JOIN_TOKEN_SESSION_SECONDS,
  revocation.REVOCATION_STREAM,
  revocation.REVOCATION_SUBJECT_PREFIX,
  revocation.REVOCATION_RETENTION_SECONDS,
  revocation.REVOCATION_RETRY_MS,
  revocation.REVOCATION_STREAM_CHECK_MS,
  revocation.EXPIRY_SWEEP_MS,
  revocation.HEARTBEAT_SWEEP_MS,
  revocation.REVOCATION_HEARTBEAT_MS,
  revocation.REVOCATION_PUBLISH_GRACE_MS,
  revocation.REVOCATION_FEED_KEY_FILE,
  revocation.REVOCATION_HTTP_PORT,
  revocation.FAULT_INJECTION,
  revocation.REVOCATION_KEYS_URL,
  revocation.REVOCATION_KEYS_SPIFFE_ID,
  revocation.JWKS_URL,
  revocation.JWKS_CA_FILE,
  revocation.JWKS_SPIFFE_ID,
  revocation.JWKS_CACHE_SECONDS,
  revocation.EDGE_CONSUME_TIMEOUT_MS,
  revocation.EDGE_USAGE_REPORT_MS,
  revocation.EDGE_USAGE_MAX_ENTRIES,
  revocation.EDGE_STALE_AFTER_MS,
  revocation.EDGE_MAX_REVOCATIONS,
  audit.AUDIT_CHECKPOINT_KEY_FILE,
  audit.AUDIT_CHECKPOINT_MS,
  audit.AUDIT_HEAD_STREAM,
  audit.AUDIT_HEAD_SUBJECT,
  audit.AUDIT_HEAD_COALESCE_MS,
  audit.AUDIT_MAX_ATTEMPTS,
  audit.AUDIT_DELIVERY_LINGER_MS,
  operator.STATE_DIR,
  operator.SERVICE_NODE_OPTIONS,
  operator.ALLOW_UNAUTHENTICATED_NATS,
  operator.DB_PASSWORD,
  operator.ID_TOKEN,
  operator.AGENT_CONFIG,
  operator.TRACES_FILE,
  operator.DEMO_ORDERS_DB,
  operator.DEMO_ORDERS_ADMIN_FILE,
  ...operator.OTEL_SETTINGS,
];
