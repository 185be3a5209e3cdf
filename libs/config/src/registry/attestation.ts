import { intSetting, listSetting, optionalSetting } from '../setting.js';

/** Settings of attestation (evidence, trusted issuers, the workload CA and sessions). */

export const CLOCK_TOLERANCE_SECONDS = intSetting({ name: 'MAYFLY_CLOCK_TOLERANCE_SECONDS', readBy: ['attestation', 'edge-verifier'], default: 5, min: 0, max: 300, description: 'allowed clock skew for exp/iat' });
export const ISSUER_CACHE_MS = intSetting({ name: 'MAYFLY_ISSUER_CACHE_MS', readBy: ['attestation'], default: 10_000, min: 0, description: 'how long trusted-issuer lookups are cached' });
export const ISSUER_CA_FILE = optionalSetting({
  name: 'MAYFLY_ISSUER_CA_FILE',
  readBy: ['attestation', 'issuance'],
  description: "extra PEM CAs (beside the system store) for trusted issuers' https JWKS URLs, and for the approver issuer's",
});
export const WORKLOAD_TRUST_DOMAINS = listSetting({
  name: 'MAYFLY_WORKLOAD_TRUST_DOMAINS',
  readBy: ['attestation'],
  default: [],
  defaultText: 'unset (any)',
  description: 'comma-separated trust domains workloads may be registered in (`RegistryService` refuses others)',
});
export const WORKLOAD_CA_FILE = optionalSetting({
  name: 'MAYFLY_WORKLOAD_CA_FILE',
  readBy: ['attestation', 'issuance'],
  defaultText: 'unset (no sessions)',
  description: 'PEM of the workload CA: issuance accepts client certificates (X.509-SVIDs) from it',
});
export const WORKLOAD_CA_KEY_FILE = optionalSetting({ name: 'MAYFLY_WORKLOAD_CA_KEY_FILE', readBy: ['attestation'], description: 'its private key (PKCS#8 PEM, ECDSA P-256): attestation signs SVIDs with it' });
export const SVID_MAX_SECONDS = intSetting({ name: 'MAYFLY_SVID_MAX_SECONDS', readBy: ['attestation'], default: 3600, min: 15, max: 86_400, description: "longest life of an X.509-SVID (never beyond the evidence's expiry)" });
export const JOIN_TOKEN_SESSION_SECONDS = intSetting({
  name: 'MAYFLY_JOIN_TOKEN_SESSION_SECONDS',
  readBy: ['attestation'],
  default: 86_400,
  min: 60,
  max: 30 * 86_400,
  description: 'how long a session a join token started may rotate its certificate without evidence (60 s to 30 days); after that the workload needs a new join token or other evidence',
});
