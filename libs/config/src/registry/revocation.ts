import { DEFAULT_PORTS } from '../ports.js';
import { intSetting, optionalSetting, portSetting, stringSetting } from '../setting.js';

/** Settings of the revocation service and of the edges that follow its feed. */

export const REVOCATION_STREAM = stringSetting({ name: 'MAYFLY_REVOCATION_STREAM', readBy: ['revocation', 'edge-verifier', 'issuance'], default: 'MAYFLY_REVOCATIONS', description: 'JetStream stream name' });
export const REVOCATION_SUBJECT_PREFIX = stringSetting({ name: 'MAYFLY_REVOCATION_SUBJECT_PREFIX', readBy: ['revocation', 'edge-verifier', 'issuance'], default: 'mayfly.revocations', description: 'subjects are `<prefix>.grant.<grant id>`' });
export const REVOCATION_RETENTION_SECONDS = intSetting({ name: 'MAYFLY_REVOCATION_RETENTION_SECONDS', readBy: ['revocation'], default: 86_400, min: 60, description: 'how long the stream keeps events; must be ≥ the longest credential lifetime' });
export const REVOCATION_RETRY_MS = intSetting({ name: 'MAYFLY_REVOCATION_RETRY_MS', readBy: ['revocation'], default: 1_000, min: 50, description: 'retry interval for revocations NATS has not acknowledged' });
export const REVOCATION_STREAM_CHECK_MS = intSetting({
  name: 'MAYFLY_REVOCATION_STREAM_CHECK_MS',
  readBy: ['revocation'],
  default: 2_000,
  min: 100,
  description: "how often the stream is checked against PostgreSQL (and repaired), and the edges' marker refreshed; bounds how long an edge waits after a loss or at start",
});
export const EXPIRY_SWEEP_MS = intSetting({ name: 'MAYFLY_EXPIRY_SWEEP_MS', readBy: ['revocation'], default: 5_000, min: 100, description: 'how often grants past their expiry are marked expired' });
export const HEARTBEAT_SWEEP_MS = intSetting({ name: 'MAYFLY_HEARTBEAT_SWEEP_MS', readBy: ['revocation'], default: 1_000, min: 100, description: 'how often grants whose heartbeat is overdue are looked for and revoked' });
export const REVOCATION_HEARTBEAT_MS = intSetting({
  name: 'MAYFLY_REVOCATION_HEARTBEAT_MS',
  readBy: ['revocation'],
  default: 1_000,
  min: 50,
  description: "how often the heartbeat (where the stream ends) is sent to edges; keep it well below the edges' staleness bound",
});
export const REVOCATION_PUBLISH_GRACE_MS = intSetting({
  name: 'MAYFLY_REVOCATION_PUBLISH_GRACE_MS',
  readBy: ['revocation'],
  default: 1_000,
  min: 0,
  description: 'heartbeats are withheld while an acknowledged revocation has waited longer than this to be published',
});
export const REVOCATION_FEED_KEY_FILE = optionalSetting({
  name: 'MAYFLY_REVOCATION_FEED_KEY_FILE',
  readBy: ['revocation'],
  defaultText: 'unset (a key for the process only: one replica; `npm start`: `.mayfly/revocation-feed-key.jwk`)',
  description: 'Ed25519 private JWK every revocation event, marker and heartbeat is signed with (`mayfly revocation keygen --out FILE`)',
});
export const REVOCATION_HTTP_PORT = portSetting({
  name: 'MAYFLY_REVOCATION_HTTP_PORT',
  readBy: ['revocation', 'edge-verifier'],
  default: DEFAULT_PORTS['revocation-http'],
  description: "HTTPS port for `/.well-known/revocation-keys.json` (the feed keys), with the revocation service's own certificate",
});
export const FAULT_INJECTION = optionalSetting({
  name: 'MAYFLY_FAULT_INJECTION',
  readBy: ['revocation', 'issuance'],
  description: "tests only: `crash-after-revocation-commit` kills revocation between a revocation's commit and its publish (e2e 17); `crash-after-login-created` kills issuance between making a grant's login and committing the grant (e2e 41); any other value is a start-up error",
});

export const REVOCATION_KEYS_URL = optionalSetting({
  name: 'MAYFLY_REVOCATION_KEYS_URL',
  readBy: ['edge-verifier'],
  defaultText: '`https://127.0.0.1:8081/.well-known/revocation-keys.json`',
  description: "where the revocation service's feed keys are fetched",
});
export const REVOCATION_KEYS_SPIFFE_ID = optionalSetting({ name: 'MAYFLY_REVOCATION_KEYS_SPIFFE_ID', readBy: ['edge-verifier'], defaultText: '`spiffe://<trust domain>/mayfly/revocation`', description: "the SPIFFE ID that server's certificate must name" });
export const JWKS_URL = optionalSetting({
  name: 'MAYFLY_JWKS_URL',
  readBy: ['edge-verifier'],
  defaultText: '`<issuer>/.well-known/jwks.json`',
  description: "where edges fetch the signing keys (HTTPS with issuance's certificate unless `MAYFLY_INSECURE_DEV`)",
});
export const JWKS_CA_FILE = optionalSetting({ name: 'MAYFLY_JWKS_CA_FILE', readBy: ['edge-verifier'], defaultText: '`MAYFLY_TLS_CA_FILE`', description: 'CA the edge trusts when fetching the JWKS' });
export const JWKS_SPIFFE_ID = optionalSetting({ name: 'MAYFLY_JWKS_SPIFFE_ID', readBy: ['edge-verifier'], defaultText: '`spiffe://<trust domain>/mayfly/issuance`', description: "the SPIFFE ID the JWKS server's certificate must name" });
export const JWKS_CACHE_SECONDS = intSetting({
  name: 'MAYFLY_JWKS_CACHE_SECONDS',
  readBy: ['edge-verifier'],
  default: 300,
  min: 1,
  max: 86_400,
  description: 'how long an edge trusts a fetched JWKS (and tokens verified against it): a removed key stops verifying within this',
});
export const EDGE_CONSUME_TIMEOUT_MS = intSetting({
  name: 'MAYFLY_EDGE_CONSUME_TIMEOUT_MS',
  readBy: ['edge-verifier'],
  default: 2_000,
  min: 50,
  max: 60_000,
  description: 'how long the sidecar waits for the revocation service to consume a single-use token; past it the token is refused (`ERR_SINGLE_USE_UNAVAILABLE`), never accepted unconsumed',
});
export const EDGE_USAGE_REPORT_MS = intSetting({
  name: 'MAYFLY_EDGE_USAGE_REPORT_MS',
  readBy: ['edge-verifier'],
  default: 10_000,
  min: 100,
  description: 'how often the sidecar reports what it accepted (per grant, resource, action: count, first and last use) to the audit service',
});
export const EDGE_USAGE_MAX_ENTRIES = intSetting({
  name: 'MAYFLY_EDGE_USAGE_MAX_ENTRIES',
  readBy: ['edge-verifier'],
  default: 10_000,
  min: 1,
  description: 'distinct uses kept between reports (and while audit is away); beyond it uses are counted as `usage.dropped`',
});
export const EDGE_STALE_AFTER_MS = intSetting({
  name: 'MAYFLY_EDGE_STALE_AFTER_MS',
  readBy: ['edge-verifier'],
  default: 5_000,
  min: 100,
  max: 600_000,
  description: 'staleness bound: with no revocation-service heartbeat confirming its feed for this long, the edge refuses every token (`ERR_REVOCATION_FEED_STALE`) and reports NOT_SERVING',
});
export const EDGE_MAX_REVOCATIONS = intSetting({ name: 'MAYFLY_EDGE_MAX_REVOCATIONS', readBy: ['edge-verifier'], default: 1_000_000, min: 1, description: 'cap on remembered revocations; past it every token is refused until entries expire' });
