import { EVIDENCE_KINDS_SENTENCE } from '@mayfly/core';
import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { Workload } from '@mayfly/proto';
import type { Attestor, EvidenceKind } from '../attestors/attestor.js';
import { attestWorkload } from './attest-workload.js';

const attestor: Attestor = {
  name: 'fake',
  evidenceKind: 'oidc_token',
  attest: async (evidence) => ({
    attestor: 'fake',
    issuer: 'iss',
    issuerKind: 'oidc',
    subject: evidence.split('#')[0]!,
    claims: { sub: evidence.split('#')[0]! },
    expiresAt: new Date(0),
    evidenceDigest: evidence,
    replayPolicy: evidence.includes('reusable') ? 'reusable-until-expiry' : 'single-use',
  }),
};
const attestors = new Map<EvidenceKind, Attestor>([['oidc_token', attestor]]);
const bound = Workload.fromPartial({ spiffeId: 'spiffe://example.org/bound' });
/** Remembers digests like the real registry, and binds only the subject "known". */
function registryFake() {
  const used = new Set<string>();
  return {
    consumeAndFind: async (use: { digest: string; subject: string }) => {
      const firstUse = !used.has(use.digest);
      used.add(use.digest);
      if (use.subject === 'ambiguous') return { firstUse, workload: undefined, disabled: false, problem: 'binding rules disagree about this evidence' };
      if (use.subject === 'unregistered') return { firstUse, workload: undefined, disabled: false, boundBy: 'binding rule r1', unregisteredSpiffeId: 'spiffe://example.org/ghost' };
      return { firstUse, workload: use.subject === 'known' || use.subject === 'disabled' ? bound : undefined, disabled: use.subject === 'disabled' };
    },
  };
}
const registry = registryFake();

describe('attestWorkload', () => {
  it('maps attested (issuer, subject) to the workload bound to it', async () => {
    const result = await attestWorkload({ oidcToken: 'known#1' }, attestors, registry);
    expect(result.workload?.spiffeId).toBe('spiffe://example.org/bound');
    expect(result).toMatchObject({ attestor: 'fake', issuer: 'iss', subject: 'known', evidenceDigest: 'known#1', claims: { sub: 'known' } });
  });

  it('refuses evidence binding rules disagree about, and names the unregistered SPIFFE ID a rule proved', async () => {
    await expect(attestWorkload({ oidcToken: 'ambiguous' }, attestors, registry)).rejects.toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('disagree') });
    await expect(attestWorkload({ oidcToken: 'unregistered' }, attestors, registry)).rejects.toMatchObject({
      message: expect.stringContaining('binding rule r1 names spiffe://example.org/ghost, which is not a registered workload'),
    });
  });

  it('takes whichever one kind of evidence is set, and refuses none', async () => {
    const joinTokens: Attestor = { ...attestor, name: 'join', evidenceKind: 'join_token' };
    const both = new Map<EvidenceKind, Attestor>([...attestors, ['join_token', joinTokens]]);
    await expect(attestWorkload({ joinToken: 'known#j' }, both, registry)).resolves.toMatchObject({ subject: 'known' });
    await expect(attestWorkload({ jwtSvid: 'known#s' }, both, registry)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('no attestor handles evidence of kind "jwt_svid"') });
    await expect(attestWorkload({}, both, registry)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(EVIDENCE_KINDS_SENTENCE) });
  });

  it('refuses evidence that has been used before (single use)', async () => {
    await attestWorkload({ oidcToken: 'known#2' }, attestors, registry);
    await expect(attestWorkload({ oidcToken: 'known#2' }, attestors, registry)).rejects.toMatchObject({
      code: 'ERR_ATTESTATION_FAILED',
      message: expect.stringContaining('already been used'),
    });
  });

  it('lets evidence of an issuer whose replay policy is reusable-until-expiry attest again', async () => {
    await attestWorkload({ oidcToken: 'known#reusable' }, attestors, registry);
    await expect(attestWorkload({ oidcToken: 'known#reusable' }, attestors, registry)).resolves.toMatchObject({ subject: 'known' });
  });

  it('refuses a disabled workload', async () => {
    await expect(attestWorkload({ oidcToken: 'disabled#1' }, attestors, registry)).rejects.toMatchObject({ code: 'ERR_ATTESTATION_FAILED', message: expect.stringContaining('disabled') });
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
