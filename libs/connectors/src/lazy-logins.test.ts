import { describe, expect, it } from 'vitest';
import type { CheckableLogins } from './dynamic-login.js';
import { LazyLogins } from './lazy-logins.js';

/** A connector that counts what was asked of it. */
function countingLogins(calls: string[]): CheckableLogins {
  return {
    kind: 'redis',
    check: async () => void calls.push('check'),
    issue: async (grant) => (calls.push(`issue ${grant.grantId}`), { user: 'u', password: 'p', host: 'h', port: 1, database: undefined, validUntil: grant.expiresAt }),
    renew: async () => void calls.push('renew'),
    destroy: async (grantId) => (calls.push(`destroy ${grantId}`), 'destroyed'),
    exists: async () => (calls.push('exists'), true),
    listLive: async () => (calls.push('listLive'), ['a']),
    close: async () => void calls.push('close'),
  };
}

describe('lazy logins', () => {
  it('loads the connector at the first call, once, and passes every call through', async () => {
    const calls: string[] = [];
    let loads = 0;
    const logins = new LazyLogins('redis', async () => ((loads += 1), countingLogins(calls)));
    expect(loads).toBe(0);
    await Promise.all([logins.check(), logins.exists('g'), logins.listLive()]);
    expect(await logins.destroy('g1')).toBe('destroyed');
    expect(loads).toBe(1);
    expect(calls).toEqual(['check', 'exists', 'listLive', 'destroy g1']);
    await logins.close();
    expect(calls.at(-1)).toBe('close');
  });

  it('closing one never used loads nothing', async () => {
    let loads = 0;
    const logins = new LazyLogins('mariadb', async () => ((loads += 1), countingLogins([])));
    await logins.close();
    expect(loads).toBe(0);
    expect(logins.isLoaded).toBe(false);
  });

  it('a failed load fails that call and is tried again by the next', async () => {
    let loads = 0;
    const logins = new LazyLogins('postgresql', async () => {
      loads += 1;
      if (loads === 1) throw new Error('driver missing');
      return countingLogins([]);
    });
    await expect(logins.check()).rejects.toThrow('driver missing');
    await expect(logins.check()).resolves.toBeUndefined();
    expect(loads).toBe(2);
  });
});
