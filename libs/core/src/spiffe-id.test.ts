import { describe, expect, it } from 'vitest';
import { isSpiffeId, spiffeIdProblem } from './spiffe-id.js';
import { validateSpiffeId } from './validation.js';

describe('SPIFFE IDs, as the SPIFFE ID specification allows them', () => {
  it.each(['spiffe://demo.mayfly.local/app', 'spiffe://example.org/ns/prod/sa/orders_api', 'spiffe://td_1-x.y/a.b/-_/...x', 'spiffe://a/b'])('accepts %s', (value) => {
    expect(spiffeIdProblem(value)).toBeUndefined();
  });

  // Red team (issue 20, point 9): spiffe://demo.mayfly.local/x/../y was registered.
  it.each([
    ['a ".." segment', 'spiffe://demo.mayfly.local/x/../y'],
    ['a "." segment', 'spiffe://demo.mayfly.local/x/./y'],
    ['a trailing ".."', 'spiffe://demo.mayfly.local/x/..'],
    ['percent-encoding', 'spiffe://demo.mayfly.local/x%2Fy'],
    ['a character outside the set', 'spiffe://demo.mayfly.local/x@y'],
    ['a tilde', 'spiffe://demo.mayfly.local/~x'],
    ['an empty segment', 'spiffe://demo.mayfly.local/x//y'],
    ['a trailing slash', 'spiffe://demo.mayfly.local/x/'],
    ['no path', 'spiffe://demo.mayfly.local'],
    ['an upper-case trust domain', 'spiffe://Demo.mayfly.local/x'],
    ['a port', 'spiffe://demo.mayfly.local:8443/x'],
    ['user info', 'spiffe://user@demo.mayfly.local/x'],
    ['an upper-case scheme', 'SPIFFE://demo.mayfly.local/x'],
    ['a query', 'spiffe://demo.mayfly.local/x?y=1'],
    ['a fragment', 'spiffe://demo.mayfly.local/x#y'],
    ['a space', 'spiffe://demo.mayfly.local/x y'],
    ['too long', `spiffe://demo.mayfly.local/${'a'.repeat(2048)}`],
  ])('refuses %s', (_what, value) => {
    expect(isSpiffeId(value)).toBe(false);
    expect(() => validateSpiffeId('workload.spiffe_id', value)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', field: 'workload.spiffe_id' }));
  });

  it('names what is wrong', () => {
    expect(spiffeIdProblem('spiffe://demo.mayfly.local/x/../y')).toMatch(/"\." or "\.\."/);
  });
});
