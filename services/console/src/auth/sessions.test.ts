import { describe, expect, it } from 'vitest';
import { SessionStore, csrfTokenMatches, personFromClaims } from './sessions.js';

const attempt = { state: 's', nonce: 'n', codeVerifier: 'v' };
const person = { email: 'alice@example.com', name: 'Alice', groups: ['sre'] };

describe('SessionStore', () => {
  it('forgets a session at its expiry: an expired cookie is no session', () => {
    let now = 1_000_000;
    const store = new SessionStore(() => now);
    const session = store.open(person, 'id-token', now + 60_000);
    expect(store.find(session.id)).toBe(session);
    now += 60_000;
    expect(store.find(session.id)).toBeUndefined();
    expect(store.find(session.id)).toBeUndefined();
  });

  it('gives random 256-bit ids and a CSRF token per session; closing ends it', () => {
    const store = new SessionStore();
    const a = store.open(person, 't', Date.now() + 60_000);
    const b = store.open(person, 't', Date.now() + 60_000);
    expect(a.id).toMatch(/^[\w-]{43}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.csrfToken).not.toBe(b.csrfToken);
    store.close(a.id);
    expect(store.find(a.id)).toBeUndefined();
    expect(store.find(undefined)).toBeUndefined();
    expect(store.find('forged')).toBeUndefined();
  });

  it('lets a sign-in attempt be taken once, within ten minutes', () => {
    let now = 0;
    const store = new SessionStore(() => now);
    const key = store.beginSignIn(attempt, '/grants');
    expect(store.takeSignIn(key)).toEqual({ attempt, returnTo: '/grants' });
    expect(store.takeSignIn(key)).toBeUndefined();
    const late = store.beginSignIn(attempt, '/');
    now += 10 * 60_000 + 1;
    expect(store.takeSignIn(late)).toBeUndefined();
    expect(store.takeSignIn(undefined)).toBeUndefined();
  });
});

describe('csrfTokenMatches', () => {
  it("accepts only the session's own token", () => {
    const session = new SessionStore().open(person, 't', Date.now() + 60_000);
    expect(csrfTokenMatches(session, session.csrfToken)).toBe(true);
    expect(csrfTokenMatches(session, undefined)).toBe(false);
    expect(csrfTokenMatches(session, '')).toBe(false);
    expect(csrfTokenMatches(session, `${session.csrfToken}x`)).toBe(false);
    expect(csrfTokenMatches(session, session.csrfToken.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).toBe(false);
  });
});

describe('personFromClaims', () => {
  it('reads email, name and string groups', () => {
    expect(personFromClaims({ sub: 's', email: 'a@example.com', name: 'A', groups: ['sre', 7] })).toEqual({ email: 'a@example.com', name: 'A', groups: ['sre'] });
    expect(personFromClaims({ sub: 's' })).toEqual({ email: 's', name: 's', groups: [] });
  });
});
