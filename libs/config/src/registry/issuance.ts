import { DEFAULT_PORTS } from '../ports.js';
import { boolSetting, intSetting, listSetting, optionalSetting, portSetting, stringSetting } from '../setting.js';

/** Settings of issuance: lifetimes and caps, rate limits, signing keys, approvers, sessions. */

export const MAX_TTL_SECONDS = intSetting({
  name: 'MAYFLY_MAX_TTL_SECONDS',
  readBy: ['issuance', 'decision', 'edge-verifier', 'mayfly CLI'],
  default: 3600,
  min: 1,
  max: 86_400,
  description: 'no credential lives longer, whatever is asked or allowed (the edge refuses a token whose lifetime is longer; `mayfly keys` sizes the retired-key grace by it)',
});
export const DEFAULT_TTL_SECONDS = intSetting({ name: 'MAYFLY_DEFAULT_TTL_SECONDS', readBy: ['issuance'], default: 300, min: 1, max: 86_400, description: 'credential lifetime when the request names none' });
export const MAX_GRANT_SECONDS = intSetting({
  name: 'MAYFLY_MAX_GRANT_SECONDS',
  readBy: ['issuance'],
  default: 28_800,
  min: 1,
  max: 7 * 86_400,
  description: 'no grant is renewed past this long after its issue (policy `@max_grant_seconds` and the task deadline may cut it shorter)',
});
export const BREAK_GLASS_MAX_SECONDS = intSetting({ name: 'MAYFLY_BREAK_GLASS_MAX_SECONDS', readBy: ['issuance'], default: 900, min: 60, max: 86_400, description: 'no break-glass grant, nor any of its tokens, lives longer' });
export const MAX_DELEGATION_DEPTH = intSetting({
  name: 'MAYFLY_MAX_DELEGATION_DEPTH',
  readBy: ['issuance'],
  default: 3,
  min: 0,
  max: 16,
  description: 'how many times access may be passed on with `DelegateGrant` (agent → sub-agent → tool is 2); 0 turns delegation off',
});
export const GRANT_RATE_PER_SECOND = intSetting({ name: 'MAYFLY_GRANT_RATE_PER_SECOND', readBy: ['issuance'], default: 50, min: 0, max: 1_000_000, description: 'grant requests per second per workload (token bucket); 0 turns limiting off' });
export const GRANT_RATE_BURST = intSetting({ name: 'MAYFLY_GRANT_RATE_BURST', readBy: ['issuance'], default: 100, min: 1, max: 1_000_000, description: 'how many grant requests a workload may make at once' });
export const GRANT_COMMIT_MAX_BATCH = intSetting({
  name: 'MAYFLY_GRANT_COMMIT_MAX_BATCH',
  readBy: ['issuance'],
  default: 64,
  min: 1,
  max: 500,
  description: 'most grants committed in one transaction under concurrency (group commit); 1 commits each grant on its own',
});
export const GRANT_COMMIT_CONCURRENCY = intSetting({
  name: 'MAYFLY_GRANT_COMMIT_CONCURRENCY',
  readBy: ['issuance'],
  default: 2,
  min: 1,
  max: 64,
  description: 'grant commit transactions at once; grants arriving while all are busy share the next one (a grant alone never waits)',
});
export const DECIDE_MAX_BATCH = intSetting({
  name: 'MAYFLY_DECIDE_MAX_BATCH',
  readBy: ['issuance'],
  default: 64,
  min: 1,
  max: 256,
  description: 'most decisions asked of the decision service together (one DecideStream message or DecideBatch call) under concurrency; 1 asks each alone',
});
export const DECIDE_CONCURRENCY = intSetting({
  name: 'MAYFLY_DECIDE_CONCURRENCY',
  readBy: ['issuance'],
  default: 2,
  min: 1,
  max: 64,
  description: 'asks to the decision service at once; requests arriving while all are out share the next ask (a request alone never waits)',
});
export const DECIDE_OVER_STREAM = boolSetting({
  name: 'MAYFLY_DECIDE_OVER_STREAM',
  readBy: ['issuance'],
  default: true,
  description: 'ask decision over long-lived DecideStreams (four, taken in turn, spread over the decision replicas; a message per ask) instead of a Decide or DecideBatch call each; false: calls only',
});
export const UNAUTHENTICATED_RATE_PER_PEER = intSetting({
  name: 'MAYFLY_UNAUTHENTICATED_RATE_PER_PEER',
  readBy: ['issuance'],
  default: 200,
  min: 0,
  max: 1_000_000,
  description: 'grant requests per second per network peer before their evidence is checked; 0 turns it off (behind a proxy every workload is one peer: raise it)',
});
export const UNAUTHENTICATED_BURST_PER_PEER = intSetting({ name: 'MAYFLY_UNAUTHENTICATED_BURST_PER_PEER', readBy: ['issuance'], default: 400, min: 1, max: 1_000_000, description: 'how many such requests one peer may make at once' });

export const ISSUANCE_HTTP_PORT = portSetting({
  name: 'MAYFLY_ISSUANCE_HTTP_PORT',
  readBy: ['issuance', 'edge-verifier'],
  default: DEFAULT_PORTS['issuance-http'],
  description: 'HTTPS port for `/.well-known/jwks.json` and `/.well-known/openid-configuration` (the edge derives the default issuer from it)',
});
export const TOKEN_ISSUER = optionalSetting({
  name: 'MAYFLY_TOKEN_ISSUER',
  readBy: ['issuance', 'edge-verifier'],
  defaultText: '`https://127.0.0.1:<http port>` (`http://` when insecure)',
  description: '`iss` of access tokens',
});
export const SIGNING_KEYRING_DIR = optionalSetting({
  name: 'MAYFLY_SIGNING_KEYRING_DIR',
  readBy: ['issuance', 'mayfly CLI'],
  defaultText: 'unset (each process signs with a key that lives as long as it; `npm start`: `.mayfly/signing-keys`)',
  description:
    'the signing keyring: one `<kid>.json` per Ed25519 key with its state (next, active, retired), a directory or a mounted Secret shared by every replica; made and rotated with `mayfly keys` (see [deploy/README.md](deploy/README.md#rotating-the-signing-key))',
});
export const SIGNING_KEYRING_RELOAD_MS = intSetting({ name: 'MAYFLY_SIGNING_KEYRING_RELOAD_MS', readBy: ['issuance'], default: 5_000, min: 100, max: 600_000, description: 'how often the keyring is re-read; a damaged keyring is logged and the last good one kept' });
export const SIGNING_KEY_RETIRE_GRACE_SECONDS = intSetting({
  name: 'MAYFLY_SIGNING_KEY_RETIRE_GRACE_SECONDS',
  readBy: ['issuance', 'mayfly CLI'],
  default: 300,
  min: 0,
  max: 86_400,
  description: 'a retired key stays in the JWKS for `MAYFLY_MAX_TTL_SECONDS` + this (time for every replica to hear of a rotation)',
});
export const REVOKED_KEYS_POLL_MS = intSetting({ name: 'MAYFLY_REVOKED_KEYS_POLL_MS', readBy: ['issuance'], default: 2_000, min: 100, max: 60_000, description: 'how often revoked signing keys are read from PostgreSQL (they leave the JWKS and never sign again)' });
export const SESSION_CHECK_CACHE_MS = intSetting({
  name: 'MAYFLY_SESSION_CHECK_CACHE_MS',
  readBy: ['issuance'],
  default: 2_000,
  min: 0,
  max: 60_000,
  description: "how long a session certificate's registry check is cached: disabling a workload or revoking an SVID stops its grants within this",
});
export const GRANT_READER_GROUPS = listSetting({
  name: 'MAYFLY_GRANT_READER_GROUPS',
  readBy: ['issuance'],
  default: ['sre', 'security'],
  description:
    "people in these groups may list and read every grant through `ApprovalService`; others see the requests they may answer, the break-glass grants they may review, and their own workloads' grants",
});

export const APPROVER_ISSUER = optionalSetting({
  name: 'MAYFLY_APPROVER_ISSUER',
  readBy: ['issuance'],
  defaultText: 'unset (`npm start`: a development people issuer)',
  description: 'the human identity provider whose OIDC ID tokens approvers and reviewers present; unset: nobody can approve, and requests that need approval expire',
});
export const APPROVER_AUDIENCE = optionalSetting({ name: 'MAYFLY_APPROVER_AUDIENCE', readBy: ['issuance'], defaultText: '`mayfly-approvals`', description: 'the audience approvers\' ID tokens must carry' });
export const APPROVER_JWKS_URL = optionalSetting({ name: 'MAYFLY_APPROVER_JWKS_URL', readBy: ['issuance'], description: "where the approver issuer's keys are fetched (https); or give `MAYFLY_APPROVER_JWKS`" });
export const APPROVER_JWKS = optionalSetting({ name: 'MAYFLY_APPROVER_JWKS', readBy: ['issuance'], description: "the approver issuer's key set inline, or a file holding one" });
export const APPROVER_GROUPS_CLAIM = optionalSetting({ name: 'MAYFLY_APPROVER_GROUPS_CLAIM', readBy: ['issuance'], defaultText: '`groups`', description: 'the ID token claim that lists the person\'s groups' });
export const APPROVER_MAX_AGE_SECONDS = intSetting({ name: 'MAYFLY_APPROVER_MAX_AGE_SECONDS', readBy: ['issuance'], default: 900, min: 30, max: 86_400, description: 'ID tokens issued longer ago are refused' });

export const LOGIN_RECONCILE_MS = intSetting({
  name: 'MAYFLY_LOGIN_RECONCILE_MS',
  readBy: ['issuance'],
  default: 30_000,
  min: 100,
  max: 3_600_000,
  description: 'how often every resource with dynamic logins is checked for logins no active grant backs (a crash between making a login and committing its grant, a missed end): one found twice in a row is destroyed',
});
export const RESOURCE_CACHE_MS = intSetting({
  name: 'MAYFLY_RESOURCE_CACHE_MS',
  readBy: ['issuance'],
  default: 5_000,
  min: 0,
  max: 600_000,
  description: 'how long issuance caches a resource\'s registry entry (a changed action map applies to grants issued after this)',
});

/** Notifications (issue 25): a webhook for approval requests and break-glass alerts, beside NATS. */
export const WEBHOOK_URL = optionalSetting({
  name: 'MAYFLY_WEBHOOK_URL',
  readBy: ['issuance'],
  description: 'where approval requests and break-glass alerts are also posted (https; a chat, pager or ticketing bridge); unset: NATS only',
});
export const WEBHOOK_SECRET = optionalSetting({
  name: 'MAYFLY_WEBHOOK_SECRET',
  readBy: ['issuance'],
  defaultText: 'unset (required with a URL)',
  description: 'the HMAC-SHA256 key of `x-mayfly-signature` (at least 32 characters), or a file holding it',
});
export const WEBHOOK_FORMAT = stringSetting({ name: 'MAYFLY_WEBHOOK_FORMAT', readBy: ['issuance'], default: 'json', description: '`json` (the announcement\'s fields) or `slack` (a Slack-compatible message with a button to the console)' });
export const WEBHOOK_MAX_ATTEMPTS = intSetting({ name: 'MAYFLY_WEBHOOK_MAX_ATTEMPTS', readBy: ['issuance'], default: 8, min: 1, max: 50, description: 'attempts per delivery (1 s doubling to 60 s between them) before it is given up and logged' });
export const WEBHOOK_CA_FILE = optionalSetting({ name: 'MAYFLY_WEBHOOK_CA_FILE', readBy: ['issuance'], defaultText: 'system roots', description: "a CA bundle for the webhook receiver's certificate" });
