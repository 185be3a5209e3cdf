import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { Workload } from '@mayfly/proto';
import type { Attestor, EvidenceKind } from '../attestors/attestor.js';
import { attestWorkload } from './attest-workload.js';

const attestor: Attestor = {
  name: 'fake',
  evidenceKind: 'oidc_token',
  attest: async (evidence) => ({ attestor: 'fake', issuer: 'iss', subject: evidence, expiresAt: new Date(0), evidenceDigest: 'd' }),
};
const attestors = new Map<EvidenceKind, Attestor>([['oidc_token', attestor]]);
const bound = Workload.fromPartial({ spiffeId: 'spiffe://example.org/bound' });
const registry = { findBound: async (_issuer: string, subject: string) => (subject === 'known' ? bound : undefined) };

describe('attestWorkload', () => {
  it('maps attested (issuer, subject) to the workload bound to it', async () => {
    const result = await attestWorkload({ oidcToken: 'known' }, attestors, registry);
    expect(result.workload?.spiffeId).toBe('spiffe://example.org/bound');
    expect(result).toMatchObject({ attestor: 'fake', issuer: 'iss', subject: 'known', evidenceDigest: 'd' });
  });

  it('refuses valid evidence that no workload is bound to', async () => {
    await expect(attestWorkload({ oidcToken: 'stranger' }, attestors, registry)).rejects.toMatchObject({
      code: 'ERR_ATTESTATION_FAILED',
      message: expect.stringContaining('not bound to a registered workload'),
    });
  });

  it('refuses missing or oversized evidence as INVALID_ARGUMENT', async () => {
    await expect(attestWorkload(undefined, attestors, registry)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field: 'evidence' });
    await expect(attestWorkload({ oidcToken: 'x'.repeat(20_000) }, attestors, registry)).rejects.toBeInstanceOf(MayflyError);
  });
});
