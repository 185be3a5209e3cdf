import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '@mayfly/core';
import { JoinTokenAttestor, type JoinTokenRecord, type JoinTokenStore } from './join-token-attestor.js';

/** Keeps tokens by digest and uses each up once, like the PostgreSQL store. */
function store(tokens: Record<string, Omit<JoinTokenRecord, 'usedAt'>>): JoinTokenStore {
  const used = new Map<string, Date>();
  return {
    consume: async (digest, now) => {
      const token = tokens[digest];
      if (!token) return { firstUse: false, token: undefined };
      const usedAt = used.get(digest) ?? null;
      if (usedAt === null && token.expiresAt > now) {
        used.set(digest, now);
        return { firstUse: true, token: { ...token, usedAt: now } };
      }
      return { firstUse: false, token: { ...token, usedAt } };
    },
  };
}

const fresh = () => `mfjt_${randomBytes(32).toString('base64url')}`;

describe('JoinTokenAttestor', () => {
  it('attests the SPIFFE ID its token was made for, once', async () => {
    const token = fresh();
    const attestor = new JoinTokenAttestor(store({ [sha256Hex(token)]: { id: 'j1', spiffeId: 'spiffe://example.org/edge/kiosk-7', expiresAt: new Date(Date.now() + 60_000) } }));
    const subject = await attestor.attest(token);
    expect(subject).toMatchObject({ attestor: 'join-token', boundSpiffeId: 'spiffe://example.org/edge/kiosk-7', replayPolicy: 'single-use', evidenceDigest: sha256Hex(token) });
    expect(subject.claims).toEqual({ sub: 'spiffe://example.org/edge/kiosk-7', spiffe_id: 'spiffe://example.org/edge/kiosk-7', trust_domain: 'example.org', join_token_id: 'j1' });
    await expect(attestor.attest(token)).rejects.toThrow(/join token j1 was already used at .*treat it as stolen/);
  });

  it('refuses an expired token, an unknown one, and anything not shaped like a join token', async () => {
    const token = fresh();
    const attestor = new JoinTokenAttestor(store({ [sha256Hex(token)]: { id: 'j2', spiffeId: 'spiffe://example.org/a', expiresAt: new Date(Date.now() - 1) } }));
    await expect(attestor.attest(token)).rejects.toThrow(/join token j2 expired/);
    await expect(attestor.attest(fresh())).rejects.toThrow(/unknown/);
    await expect(attestor.attest('mfjt_short')).rejects.toThrow(/not a join token/);
  });
});
