import { describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { grantIdOfLogin, loginName, mappedTo } from './dynamic-login.js';

describe('dynamic login names and action maps', () => {
  const grantId = '6f1c1d59-3b1a-4c1e-9a55-0d8f2a1b7c01';

  it('names a login from the grant id alone, and reads the grant id back', () => {
    expect(loginName(grantId)).toBe('mayfly_g_6f1c1d593b1a4c1e9a550d8f2a1b7c01');
    expect(grantIdOfLogin(loginName(grantId))).toBe(grantId);
  });

  it('refuses anything but a grant id as a name, and ignores users it did not make', () => {
    for (const hostile of ['x"; DROP ROLE postgres; --', '', grantId.toUpperCase(), `${grantId} `]) expect(() => loginName(hostile)).toThrow(MayflyError);
    for (const other of ['postgres', 'mayfly_g_', 'mayfly_g_zz', `mayfly_g_${'a'.repeat(32)}_r`]) expect(grantIdOfLogin(other)).toBeUndefined();
  });

  it('maps actions to what the resource names for them, each once, and refuses an unmapped one naming it', () => {
    const map = { read: ['reader'], write: ['reader', 'writer'] };
    expect(mappedTo(['read', 'write'], map, 'pg:orders')).toEqual(['reader', 'writer']);
    expect(() => mappedTo(['read', 'admin'], map, 'pg:orders')).toThrow(/maps no "admin" action/);
    expect(() => mappedTo(['constructor'], map, 'pg:orders')).toThrow(MayflyError); // not an inherited property
  });
});
