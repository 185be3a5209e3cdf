import { type PendingApproval } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import { DecideResponse, Effect, RiskTier, type DecideRequest, type Workload } from '@mayfly/proto';
import { whyRequestNoLongerHolds, type RecheckPorts } from './approval-recheck.js';

const SPIFFE = 'spiffe://demo.mayfly.local/prod/orders-writer';
const workload: Workload = { spiffeId: SPIFFE, ownerTeam: 'orders', ownerContact: 'orders@example.com', environment: 'prod', riskTier: RiskTier.RISK_TIER_HIGH, shared: false, ceiling: [{ resource: 'pg:orders-db', actions: ['read', 'write'] }], breakGlassAllowed: false };
const current = (fields: { serial?: string | null } = {}): PendingApproval =>
  ({
    grant: { id: 'g1', spiffe_id: SPIFFE, resource: 'pg:orders-db', actions: ['write'], task_id: 't1', task_kind: 'change', task_reference: 'CHG-1', task_deadline: null },
    request: { created_at: new Date('2026-12-03T10:00:00Z'), certificate_thumbprint: fields.serial === undefined ? null : 'thumb', certificate_serial: fields.serial ?? null, requested_ttl_seconds: 300, justification: 'why', evidence: { attestor: 'oidc', issuer: 'https://ci', claims: { ref: 'main' } } },
    votes: [],
  }) as unknown as PendingApproval;
const allow = DecideResponse.fromPartial({ effect: Effect.EFFECT_NEEDS_APPROVAL, grantedActions: ['write'], policySetVersion: 7 });

function world(overrides: Partial<RecheckPorts> = {}): RecheckPorts & { asked: DecideRequest[] } {
  const asked: DecideRequest[] = [];
  return {
    asked,
    findWorkload: async () => ({ workload, disabledAt: undefined }),
    sessionRefusal: async () => undefined,
    workloadRevokedSince: async () => undefined,
    decide: async (request) => {
      asked.push(request);
      return allow;
    },
    ...overrides,
  };
}

// Red team (issue 20, point 4): the operator cut `write` from the ceiling, or revoked the
// session certificate, while the request waited — the approval still issued a write token.
describe('whyRequestNoLongerHolds', () => {
  it('lets an unchanged request through, deciding it again on the current policy set with what its evidence proved', async () => {
    const w = world();
    expect(await whyRequestNoLongerHolds(current(), w)).toBeUndefined();
    expect(w.asked[0]).toMatchObject({ resource: 'pg:orders-db', actions: ['write'], breakGlass: false, evidence: { attestor: 'oidc', claims: { ref: 'main' } } });
  });

  it('refuses when the ceiling no longer covers it', async () => {
    const narrowed = { ...workload, ceiling: [{ resource: 'pg:orders-db', actions: ['read'] }] };
    expect(await whyRequestNoLongerHolds(current(), world({ findWorkload: async () => ({ workload: narrowed, disabledAt: undefined }) }))).toMatch(/ceiling no longer allows write/);
  });

  it('refuses when the workload is gone, disabled or revoked since the request', async () => {
    expect(await whyRequestNoLongerHolds(current(), world({ findWorkload: async () => undefined }))).toMatch(/no longer registered/);
    expect(await whyRequestNoLongerHolds(current(), world({ findWorkload: async () => ({ workload, disabledAt: new Date() }) }))).toMatch(/was disabled/);
    expect(await whyRequestNoLongerHolds(current(), world({ workloadRevokedSince: async () => ({ revokedAt: new Date(), reason: 'compromised' }) }))).toMatch(/revoked .*compromised/);
  });

  it('refuses when the session certificate the token would be bound to is revoked', async () => {
    expect(await whyRequestNoLongerHolds(current({ serial: '0a' }), world({ sessionRefusal: async () => 'certificate 0a was revoked' }))).toMatch(/session certificate .* no longer accepted: certificate 0a was revoked/);
    // Bound, but asked before the serial was kept: it cannot be checked, so it is not issued.
    expect(await whyRequestNoLongerHolds(current({ serial: null }), world())).toMatch(/cannot be checked/);
  });

  it('refuses when the current policy set denies it or grants less', async () => {
    expect(await whyRequestNoLongerHolds(current(), world({ decide: async () => DecideResponse.fromPartial({ effect: Effect.EFFECT_DENY, reasons: ['writes frozen'], policySetVersion: 8 }) }))).toMatch(/version 8\) no longer allows it: writes frozen/);
    expect(await whyRequestNoLongerHolds(current(), world({ decide: async () => DecideResponse.fromPartial({ effect: Effect.EFFECT_ALLOW, grantedActions: [], policySetVersion: 8 }) }))).toMatch(/no longer allows write/);
  });
});
