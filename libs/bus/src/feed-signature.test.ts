import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FeedFreshness } from './feed-freshness.js';
import { eventSigningInput, feedSigner, heartbeatSigningInput, markerSigningInput, staticFeedKeys, verifyFeedSignature } from './feed-signature.js';

const jwk = () => generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as { x: string; d: string };
const signer = feedSigner(jwk());
const keys = staticFeedKeys([signer.publicJwk.x]);
const payload = new Uint8Array([1, 2, 3]);

describe('the revocation feed is signed', () => {
  it('accepts what the revocation service signed', async () => {
    const input = eventSigningInput('mayfly.revocations.grant.g1', payload);
    expect(await verifyFeedSignature(keys, input, signer.sign(input))).toBe('valid');
  });

  it('refuses unsigned, another key, a tampered payload or subject, and a signature moved to another kind of message', async () => {
    const input = eventSigningInput('mayfly.revocations.grant.g1', payload);
    const signature = signer.sign(input);
    expect(await verifyFeedSignature(keys, input, undefined)).toBe('unsigned');
    expect(await verifyFeedSignature(keys, input, feedSigner(jwk()).sign(input))).toBe('unknown key');
    expect(await verifyFeedSignature(keys, eventSigningInput('mayfly.revocations.grant.g1', new Uint8Array([1, 2, 4])), signature)).toBe('bad signature');
    expect(await verifyFeedSignature(keys, eventSigningInput('mayfly.revocations.grant.g2', payload), signature)).toBe('bad signature');
    const heartbeat = { created: 'c', lastSequence: 3, sentAt: 1_000 };
    const marker = { created: 'c', firstSequence: 1, lastSequence: 3 };
    expect(await verifyFeedSignature(keys, markerSigningInput(marker), signer.sign(heartbeatSigningInput(heartbeat)))).toBe('bad signature');
    expect(await verifyFeedSignature(keys, heartbeatSigningInput({ ...heartbeat, sentAt: 2_000 }), signer.sign(heartbeatSigningInput(heartbeat)))).toBe('bad signature');
    expect(await verifyFeedSignature(keys, input, `${signer.kid}`)).toBe('bad signature');
  });

  it('throws when the keys cannot be looked up (the feed fails closed), rather than calling the event forged', async () => {
    const input = eventSigningInput('s', payload);
    await expect(verifyFeedSignature(() => Promise.reject(new Error('JWKS unreachable')), input, signer.sign(input))).rejects.toThrow(/unreachable/);
  });
});

describe('a heartbeat confirms as of when it was sent, never when it arrived', () => {
  it('a replayed or held-back heartbeat buys no freshness', () => {
    const freshness = new FeedFreshness(5_000);
    freshness.heartbeat({ created: 'c', lastSequence: 1, sentAt: 1_000 }, { created: 'c', read: 1 }, 9_000);
    expect(freshness.isFresh(9_000)).toBe(false); // sent 8 s ago: stale already
    freshness.heartbeat({ created: 'c', lastSequence: 1, sentAt: 8_500 }, { created: 'c', read: 1 }, 9_000);
    expect(freshness.ageMs(9_000)).toBe(500);
  });
});
