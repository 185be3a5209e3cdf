import { describe, expect, it } from 'vitest';
import { generateEd25519Entry } from './ed25519.js';
import { activeKey, publishedKeys, type KeyringEntry } from './keyring.js';
import { planGenerate, planPromote, planPrune, planRemove, type KeyringChange } from './rotation.js';

const retention = { maxTokenTtlSeconds: 3600, graceSeconds: 300 };
const at = (iso: string): Date => new Date(iso);

function apply(entries: readonly KeyringEntry[], change: KeyringChange): KeyringEntry[] {
  const written = new Map(change.write.map((entry) => [entry.kid, entry]));
  const kept = entries.filter((entry) => !change.remove.includes(entry.kid)).map((entry) => written.get(entry.kid) ?? entry);
  return [...kept, ...change.write.filter((entry) => !entries.some((old) => old.kid === entry.kid))];
}

describe('keyring rotation', () => {
  it('walks a key through next → active → retired → removed, one active key at every step', () => {
    const first = generateEd25519Entry(at('2026-01-01T00:00:00Z'));
    let ring = apply([], planGenerate([], first));
    expect(activeKey(ring, 'ring').kid).toBe(first.kid);

    const second = generateEd25519Entry(at('2026-01-02T00:00:00Z'));
    ring = apply(ring, planGenerate(ring, second));
    expect(ring.find((entry) => entry.kid === second.kid)?.state).toBe('next');
    expect(activeKey(ring, 'ring').kid).toBe(first.kid);
    expect(publishedKeys(ring, at('2026-01-02T00:00:01Z'), retention).map((entry) => entry.kid).sort()).toEqual([first.kid, second.kid].sort());

    const promotedAt = at('2026-01-02T01:00:00Z');
    ring = apply(ring, planPromote(ring, promotedAt, 600));
    expect(activeKey(ring, 'ring').kid).toBe(second.kid);
    const retired = ring.find((entry) => entry.kid === first.kid)!;
    expect(retired).toMatchObject({ state: 'retired', retiredAt: promotedAt });

    // Published for the longest token plus the grace, then not.
    const lastMoment = new Date(promotedAt.getTime() + (3600 + 300) * 1000 - 1);
    expect(publishedKeys(ring, lastMoment, retention).map((entry) => entry.kid)).toContain(first.kid);
    expect(planPrune(ring, lastMoment, retention).remove).toEqual([]);
    const afterWindow = new Date(lastMoment.getTime() + 1);
    expect(publishedKeys(ring, afterWindow, retention).map((entry) => entry.kid)).toEqual([second.kid]);
    expect(planPrune(ring, afterWindow, retention).remove).toEqual([first.kid]);
  });

  it('refuses a second next key, promoting too early, promoting nothing, and removing the active key', () => {
    const first = generateEd25519Entry(at('2026-01-01T00:00:00Z'));
    let ring = apply([], planGenerate([], first));
    expect(() => planPromote(ring, at('2026-01-01T01:00:00Z'), 0)).toThrow(/no next key/);
    ring = apply(ring, planGenerate(ring, generateEd25519Entry(at('2026-01-01T01:00:00Z'))));
    expect(() => planGenerate(ring, generateEd25519Entry(at('2026-01-01T01:00:01Z')))).toThrow(/already next/);
    expect(() => planPromote(ring, at('2026-01-01T01:02:00Z'), 300)).toThrow(/generated 120 s ago.*in 180 s/);
    expect(() => planRemove(ring, first.kid)).toThrow(/is active/);
    expect(() => planRemove(ring, 'no-such-kid')).toThrow(/no key no-such-kid/);
  });

  it('removes a compromised retired key at once', () => {
    const first = generateEd25519Entry(at('2026-01-01T00:00:00Z'));
    let ring = apply([], planGenerate([], first));
    ring = apply(ring, planGenerate(ring, generateEd25519Entry(at('2026-01-01T00:00:00Z'))));
    ring = apply(ring, planPromote(ring, at('2026-01-01T00:10:00Z'), 0));
    expect(planRemove(ring, first.kid)).toEqual({ write: [], remove: [first.kid] });
  });

  it('refuses a keyring with no active key or with two', () => {
    const one = { ...generateEd25519Entry(at('2026-01-01T00:00:00Z')), state: 'active' as const };
    const two = { ...generateEd25519Entry(at('2026-01-01T00:00:00Z')), state: 'active' as const };
    expect(() => activeKey([], '/keys')).toThrow(/no active key.*mayfly keys generate --dir \/keys/);
    expect(() => activeKey([one, two], '/keys')).toThrow(/2 active keys/);
  });
});
