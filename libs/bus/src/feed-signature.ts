import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ed25519Thumbprint } from '@mayfly/keyring';

/**
 * NATS is transport, not trust (invariant 8): every revocation event, resync marker and
 * heartbeat the revocation service publishes is signed with its own Ed25519 key, and edges act
 * only on what verifies against the keys the revocation service publishes over HTTPS (pinned to
 * its SPIFFE ID, as issuance's JWKS is). A forged revocation, marker or heartbeat — from anyone
 * who can publish on the subjects — is refused.
 *
 * Each kind of message has its own signing input, so a signature over one can never pass as
 * another; an event's input includes its subject.
 */

/** The NATS header that carries a revocation event's signature: `<kid>.<base64url signature>`. */
export const FEED_SIGNATURE_HEADER = 'Mayfly-Signature';

export function eventSigningInput(subject: string, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`mayfly-revocation-event:v1\n${subject}\n`), payload]);
}

export function heartbeatSigningInput(heartbeat: { created: string; lastSequence: number; sentAt: number }): Buffer {
  return Buffer.from(`mayfly-revocation-heartbeat:v1:${heartbeat.created}:${heartbeat.lastSequence}:${heartbeat.sentAt}`);
}

export function markerSigningInput(marker: { created: string; firstSequence: number; lastSequence: number }): Buffer {
  return Buffer.from(`mayfly-revocation-marker:v1:${marker.created}:${marker.firstSequence}:${marker.lastSequence}`);
}

/** Signs feed messages with the revocation service's key. */
export interface FeedSigner {
  /** The key's id (its RFC 7638 thumbprint): what edges look it up by. */
  readonly kid: string;
  /** The public key as a JWK, for the key set the revocation service publishes. */
  readonly publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string; alg: 'EdDSA'; use: 'sig' };
  /** `<kid>.<base64url signature>` over `input`. */
  sign(input: Buffer): string;
}

export function feedSigner(jwk: { x: string; d: string }): FeedSigner {
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d }, format: 'jwk' });
  const kid = ed25519Thumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x });
  return {
    kid,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid, alg: 'EdDSA', use: 'sig' },
    sign: (input) => `${kid}.${sign(null, input, privateKey).toString('base64url')}`,
  };
}

/**
 * The revocation service's public key with id `kid`: undefined when it has no such key (a
 * forgery, or a key it withdrew). Throws when the key set cannot be fetched — the edge then
 * cannot tell, and fails closed.
 */
export type FeedKeyLookup = (kid: string) => Promise<KeyObject | undefined>;

export type FeedVerdict = 'valid' | 'unsigned' | 'unknown key' | 'bad signature';

/** Checks `<kid>.<signature>` over `input`. Throws only when the key cannot be looked up. */
export async function verifyFeedSignature(lookup: FeedKeyLookup, input: Buffer, signature: string | undefined): Promise<FeedVerdict> {
  if (!signature) return 'unsigned';
  const dot = signature.indexOf('.');
  if (dot <= 0) return 'bad signature';
  const key = await lookup(signature.slice(0, dot));
  if (!key) return 'unknown key';
  try {
    return verify(null, input, key, Buffer.from(signature.slice(dot + 1), 'base64url')) ? 'valid' : 'bad signature';
  } catch {
    return 'bad signature';
  }
}

/** A lookup over fixed public keys (JWK x values): for tests and for pinning keys by configuration. */
export function staticFeedKeys(xs: readonly string[]): FeedKeyLookup {
  const keys = new Map(xs.map((x) => [ed25519Thumbprint({ kty: 'OKP', crv: 'Ed25519', x }), createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })]));
  return (kid) => Promise.resolve(keys.get(kid));
}
