import { EVIDENCE_CLAIMS } from '@mayfly/core';
import type { JWTPayload } from 'jose';
import { pickClaims, type MappedClaims } from '../claims.js';

/**
 * GitLab CI ID tokens (id_tokens: in .gitlab-ci.yml) carry the job's facts as top-level claims:
 * project_path, ref, ref_protected, pipeline_id, environment, ... Every token has project_path
 * and pipeline_id; one without them is not from a CI job.
 */
export function gitlabCiClaims(payload: JWTPayload): MappedClaims {
  if (typeof payload['project_path'] !== 'string' || payload['pipeline_id'] === undefined) {
    return { problem: 'not a GitLab CI ID token (no project_path or pipeline_id claim)' };
  }
  return pickClaims(payload, EVIDENCE_CLAIMS['gitlab-ci'].filter((name) => name !== 'trust_domain'));
}
