import { describe, expect, it } from 'vitest';
import { LoginReconciler } from './login-reconciler.js';

function world(live: string[], active: string[]) {
  const users = new Set(live);
  const grants = new Set(active);
  const broken = new Set<string>();
  const reconciler = new LoginReconciler({
    liveLogins: async () => [...users],
    activeGrants: async (ids) => new Set(ids.filter((id) => grants.has(id))),
    destroy: async (id) => {
      if (broken.has(id)) throw new Error('database away');
      return users.delete(id) ? 'destroyed' : 'absent';
    },
  });
  return { reconciler, users, grants, broken };
}

describe('LoginReconciler', () => {
  it('destroys a user no active grant backs, on the second pass that finds it so; backed users stay', async () => {
    const w = world(['orphan', 'backed'], ['backed']);
    expect(await w.reconciler.pass()).toMatchObject({ live: 2, suspected: 1, destroyed: [] });
    expect(await w.reconciler.pass()).toMatchObject({ destroyed: ['orphan'] });
    expect([...w.users]).toEqual(['backed']);
  });

  it('spares a user whose grant committed between the passes (the issue in flight)', async () => {
    const w = world(['in-flight'], []);
    await w.reconciler.pass();
    w.grants.add('in-flight');
    expect(await w.reconciler.pass()).toMatchObject({ destroyed: [], suspected: 0 });
    expect(w.users.has('in-flight')).toBe(true);
  });

  it('destroys the user of a grant that ended (revoked, expired) once the reaper missed it', async () => {
    const w = world(['ended'], ['ended']);
    await w.reconciler.pass();
    w.grants.delete('ended');
    await w.reconciler.pass();
    expect((await w.reconciler.pass()).destroyed).toEqual(['ended']);
  });

  it('keeps trying a user it could not destroy, and reports the failure', async () => {
    const w = world(['stubborn'], []);
    w.broken.add('stubborn');
    await w.reconciler.pass();
    expect((await w.reconciler.pass()).failed).toEqual([{ grantId: 'stubborn', error: 'database away' }]);
    w.broken.delete('stubborn');
    expect((await w.reconciler.pass()).destroyed).toEqual(['stubborn']);
  });
});
