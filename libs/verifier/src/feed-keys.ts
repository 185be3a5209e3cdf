import { KeyObject } from 'node:crypto';
import { createRemoteJWKSet, customFetch, errors, type CryptoKey } from 'jose';
import type { FeedKeyLookup } from '@mayfly/bus';
import { MayflyError } from '@mayfly/core';
import { httpsFetch } from '@mayfly/pki';

/**
 * The revocation service's feed keys, fetched from where it publishes them (HTTPS with its own
 * certificate: pin its SPIFFE ID whenever the CA signs other identities too) and cached. A kid
 * the cached set lacks is looked up again at once — a rotated key is never taken for a forgery
 * — and is "unknown" (a forgery) only if the fresh set lacks it too. A set that cannot be
 * fetched throws: the feed then fails closed until it can.
 */
export function remoteFeedKeys(options: { url: string; caFile?: string | undefined; spiffeId?: string | undefined; allowHttp?: boolean; cacheMaxAgeMs?: number }): FeedKeyLookup {
  if (options.url.startsWith('http:') && !options.allowHttp) {
    throw new MayflyError('ERR_CONFIG', `the revocation keys URL ${options.url} is plain http: they must come over https (or set MAYFLY_INSECURE_DEV=true for development)`);
  }
  const keys = createRemoteJWKSet(new URL(options.url), {
    timeoutDuration: 2_000,
    cooldownDuration: 1_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 300_000,
    [customFetch]: httpsFetch({ caFile: options.caFile, spiffeId: options.spiffeId, allowHttp: options.allowHttp ?? false }),
  });
  const objects = new WeakMap<CryptoKey, KeyObject>();
  const find = async (kid: string): Promise<KeyObject | undefined> => {
    try {
      const key = (await keys({ alg: 'EdDSA', kid })) as CryptoKey;
      let object = objects.get(key);
      if (!object) objects.set(key, (object = KeyObject.from(key)));
      return object;
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) return undefined;
      throw error;
    }
  };
  return async (kid) => {
    const found = await find(kid);
    if (found) return found;
    await keys.reload();
    return find(kid);
  };
}
