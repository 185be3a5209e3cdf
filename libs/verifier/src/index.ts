export { EdgeVerifier, certificateThumbprint, type EdgeVerifierOptions, type RevocationFeed, type Verification, type VerifierRules, type VerifyOptions } from './edge-verifier.js';
export { readRevocationEvent, type UnreadableRevocation } from './revocation-event.js';
export { RevocationSet, type HeardRevocation, type KeyWatermark, type RevokedEntry, type TokenIdentity, type WorkloadWatermark } from './revocation-set.js';
export { isSpiffeId, readAccessTokenClaims, type AccessTokenClaims, type TokenDelegation } from './access-token.js';
export { type Rejection, type RejectionCode } from './rejection.js';
export { fetchTrustingCa, httpsFetch, type JwksFetch } from '@mayfly/pki';
export { UsageRecorder, type GrantUsage } from './usage-recorder.js';
