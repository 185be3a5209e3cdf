import { EVIDENCE_CLAIMS } from '@mayfly/core';
import type { JWTPayload } from 'jose';
import { pickClaims, type MappedClaims } from '../claims.js';

/**
 * GitHub Actions OIDC tokens carry the run's facts as top-level claims: repository, ref,
 * workflow, environment, run_id, ... (docs.github.com, "About security hardening with OpenID
 * Connect"). Every token has repository and run_id; one without them is not from a workflow run.
 */
export function githubActionsClaims(payload: JWTPayload): MappedClaims {
  if (typeof payload['repository'] !== 'string' || payload['run_id'] === undefined) {
    return { problem: 'not a GitHub Actions token (no repository or run_id claim)' };
  }
  return pickClaims(payload, EVIDENCE_CLAIMS['github-actions'].filter((name) => name !== 'trust_domain'));
}
