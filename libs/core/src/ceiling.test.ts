import { describe, expect, it } from 'vitest';
import { checkCeiling, entitlementCovers } from './ceiling.js';

describe('entitlement ceiling', () => {
  const ceiling = [
    { resource: 'pg:orders-db', actions: ['read', 'write'] },
    { resource: 's3:reports/*', actions: ['read'] },
  ];

  it('matches resources exactly, or by prefix when the entry ends in *', () => {
    expect(entitlementCovers(ceiling[0]!, 'pg:orders-db')).toBe(true);
    expect(entitlementCovers(ceiling[0]!, 'pg:orders-db-replica')).toBe(false);
    expect(entitlementCovers(ceiling[1]!, 's3:reports/2026/q4')).toBe(true);
    expect(entitlementCovers(ceiling[1]!, 's3:other')).toBe(false);
  });

  it('splits requested actions into those within and outside the ceiling', () => {
    expect(checkCeiling(ceiling, 'pg:orders-db', ['read', 'delete'])).toEqual({ within: ['read'], outside: ['delete'] });
    expect(checkCeiling(ceiling, 's3:reports/x', ['write'])).toEqual({ within: [], outside: ['write'] });
    expect(checkCeiling(ceiling, 'pg:unknown', ['read'])).toEqual({ within: [], outside: ['read'] });
  });
});
