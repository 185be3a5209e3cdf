import { type StoredGrant } from '@mayfly/model';
import { describe, expect, it } from 'vitest';
import { RiskTier, Workload } from '@mayfly/proto';
import { changedFields, grantsBeyond, readWorkloadRecord } from './workload-record.js';

const TD = ['example.org'];
const valid = Workload.fromPartial({
  spiffeId: 'spiffe://example.org/prod/reporter',
  ownerTeam: 'reporting',
  ownerContact: 'reporting@example.com',
  environment: 'prod',
  riskTier: RiskTier.RISK_TIER_MEDIUM,
  ceiling: [{ resource: 'pg:orders-db', actions: ['read', 'write'] }, { resource: 's3:reports/*', actions: ['read'] }],
});
const refusal = (fields: Partial<Workload>) => {
  try {
    readWorkloadRecord({ ...valid, ...fields }, TD);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
};

describe('readWorkloadRecord', () => {
  it('reads a valid record', () => {
    expect(readWorkloadRecord(valid, TD)).toMatchObject({ spiffeId: valid.spiffeId, riskTier: 'medium', ceiling: valid.ceiling });
  });

  it('refuses malformed SPIFFE IDs and other trust domains', () => {
    expect(refusal({ spiffeId: 'spiffe://example.org' })).toMatch(/spiffe_id/);
    expect(refusal({ spiffeId: 'https://example.org/x' })).toMatch(/spiffe_id/);
    expect(refusal({ spiffeId: 'spiffe://example.org/a b' })).toMatch(/spiffe_id/);
    expect(refusal({ spiffeId: 'spiffe://evil.org/prod/reporter' })).toMatch(/trust domain workloads are registered in \(example.org/);
  });

  it('refuses a record without owners, with an unknown risk tier or a malformed environment', () => {
    expect(refusal({ ownerTeam: ' ' })).toMatch(/owner_team: is required/);
    expect(refusal({ ownerContact: '' })).toMatch(/owner_contact: is required/);
    expect(refusal({ riskTier: RiskTier.RISK_TIER_UNSPECIFIED })).toMatch(/risk_tier/);
    expect(refusal({ environment: 'Prod Env' })).toMatch(/environment/);
  });

  it('refuses ceilings that would match everything or are malformed', () => {
    expect(refusal({ ceiling: [{ resource: '*', actions: ['read'] }] })).toMatch(/bare "\*" would allow every resource/);
    expect(refusal({ ceiling: [{ resource: 'pg:*-db', actions: ['read'] }] })).toMatch(/no other "\*"/);
    expect(refusal({ ceiling: [{ resource: 'pg:orders-db', actions: [] }] })).toMatch(/actions/);
    expect(refusal({ ceiling: [{ resource: 'pg:orders-db', actions: ['read', 'read'] }] })).toMatch(/twice/);
  });
});

describe('changedFields and grantsBeyond', () => {
  it('names what changed', () => {
    const before = readWorkloadRecord(valid, TD);
    const after = { ...before, riskTier: 'high' as const, ceiling: [{ resource: 'pg:orders-db', actions: ['read'] }] };
    expect(Object.keys(changedFields(before, after)).sort()).toEqual(['ceiling', 'riskTier']);
    expect(changedFields(before, before)).toEqual({});
  });

  it('finds the live grants a smaller ceiling no longer covers', () => {
    const grants = [
      { id: 'a', resource: 'pg:orders-db', actions: ['read'] },
      { id: 'b', resource: 'pg:orders-db', actions: ['read', 'write'] },
      { id: 'c', resource: 's3:reports/q4', actions: ['read'] },
    ] as unknown as StoredGrant[];
    expect(grantsBeyond([{ resource: 'pg:orders-db', actions: ['read'] }], grants).map((grant) => grant.id)).toEqual(['b', 'c']);
  });
});
