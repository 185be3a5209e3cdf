import { describe, expect, it } from 'vitest';
import { buildUsageReport, type Entitlements } from './usage-report.js';

const plain = (entitlements: Entitlements) => Object.fromEntries([...entitlements].map(([resource, actions]) => [resource, [...actions].sort()]));

describe('buildUsageReport', () => {
  it('proposes the smallest ceiling covering what was used, and shows what was granted but not used', () => {
    const [ci, idle] = buildUsageReport({
      ceilings: new Map([
        ['spiffe://x/ci', [{ resource: 'pg:orders', actions: ['read', 'write', 'delete'] }, { resource: 's3:logs', actions: ['read'] }]],
        ['spiffe://x/idle', [{ resource: 'pg:orders', actions: ['read'] }]],
      ]),
      issued: [
        { spiffeId: 'spiffe://x/ci', resource: 'pg:orders', actions: ['read', 'write'] },
        { spiffeId: 'spiffe://x/ci', resource: 'pg:orders', actions: ['read'] },
      ],
      used: [
        { spiffeId: 'spiffe://x/ci', resource: 'pg:orders', action: 'read', count: 40 },
        { spiffeId: 'spiffe://x/ci', resource: 'pg:orders', action: 'read', count: 2 },
      ],
    });
    expect(ci!.spiffeId).toBe('spiffe://x/ci');
    expect(plain(ci!.ceiling)).toEqual({ 'pg:orders': ['delete', 'read', 'write'], 's3:logs': ['read'] });
    expect(plain(ci!.granted)).toEqual({ 'pg:orders': ['read', 'write'] });
    expect(plain(ci!.used)).toEqual({ 'pg:orders': ['read'] });
    expect(plain(ci!.proposedCeiling)).toEqual({ 'pg:orders': ['read'] });
    expect([ci!.grants, ci!.uses]).toEqual([2, 42]);
    // Never used: the proposal is empty — nothing it needs.
    expect(plain(idle!.proposedCeiling)).toEqual({});
    expect(idle!.uses).toBe(0);
  });

  it('never proposes more than the ceiling, even if an edge reported a use outside it', () => {
    const [report] = buildUsageReport({
      ceilings: new Map([['spiffe://x/w', [{ resource: 'pg:a', actions: ['read'] }]]]),
      issued: [],
      used: [{ spiffeId: 'spiffe://x/w', resource: 'pg:a', action: 'delete', count: 1 }],
    });
    expect(plain(report!.proposedCeiling)).toEqual({});
  });
});
