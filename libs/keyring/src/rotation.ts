import { MayflyError } from '@mayfly/core';
import { publishedUntil, type KeyringEntry, type RetentionPolicy } from './keyring.js';

/**
 * The rotation steps, as pure functions from one keyring to the next. Each returns the entries
 * to write and the kids to delete; the directory adapter applies them. Rotation without a
 * rejected token is: generate (next, published) → wait until every edge has it → promote (next
 * becomes active, active becomes retired) → prune once the retired key's tokens have expired.
 */
export interface KeyringChange {
  readonly write: readonly KeyringEntry[];
  readonly remove: readonly string[];
}

/** Adds `fresh`: active in an empty keyring, next otherwise (one next at a time). */
export function planGenerate(entries: readonly KeyringEntry[], fresh: Omit<KeyringEntry, 'state'>): KeyringChange {
  if (!entries.some((entry) => entry.state === 'active')) return { write: [{ ...fresh, state: 'active' }], remove: [] };
  const next = entries.find((entry) => entry.state === 'next');
  if (next) throw new MayflyError('ERR_CONFIG', `key ${next.kid} is already next: promote it (mayfly keys promote) before generating another`);
  return { write: [{ ...fresh, state: 'next' }], remove: [] };
}

/**
 * Makes the next key active and retires the active one. The next key must have been published
 * for `minPublishedSeconds` first: edges cache the JWKS, and a token signed by a key an edge has
 * not fetched yet waits for that edge's next refetch.
 */
export function planPromote(entries: readonly KeyringEntry[], now: Date, minPublishedSeconds: number): KeyringChange {
  const next = entries.find((entry) => entry.state === 'next');
  if (!next) throw new MayflyError('ERR_CONFIG', 'no next key to promote: run `mayfly keys generate` first');
  const publishedForSeconds = (now.getTime() - next.createdAt.getTime()) / 1000;
  if (publishedForSeconds < minPublishedSeconds) {
    throw new MayflyError(
      'ERR_CONFIG',
      `key ${next.kid} was generated ${Math.floor(publishedForSeconds)} s ago; edges may not have fetched it yet. ` +
        `Promote in ${Math.ceil(minPublishedSeconds - publishedForSeconds)} s, or pass --min-published SECONDS if you know every edge has it`,
    );
  }
  const retiring = entries.filter((entry) => entry.state === 'active').map((entry) => ({ ...entry, state: 'retired' as const, retiredAt: now }));
  return { write: [{ ...next, state: 'active' }, ...retiring], remove: [] };
}

/** Deletes retired keys whose publication window has ended (no unexpired token can carry them). */
export function planPrune(entries: readonly KeyringEntry[], now: Date, retention: RetentionPolicy): KeyringChange {
  const expired = entries.filter((entry) => {
    const until = publishedUntil(entry, retention);
    return until !== undefined && until.getTime() <= now.getTime();
  });
  return { write: [], remove: expired.map((entry) => entry.kid) };
}

/**
 * Deletes one key at once, whatever its window (a compromised key): tokens it signed stop
 * verifying once edges refetch the JWKS. The active key cannot be removed; promote first.
 */
export function planRemove(entries: readonly KeyringEntry[], kid: string): KeyringChange {
  const entry = entries.find((candidate) => candidate.kid === kid);
  if (!entry) throw new MayflyError('ERR_INVALID_ARGUMENT', `no key ${kid} in the keyring`);
  if (entry.state === 'active') throw new MayflyError('ERR_CONFIG', `key ${kid} is active: generate and promote a new key before removing it`);
  return { write: [], remove: [kid] };
}
