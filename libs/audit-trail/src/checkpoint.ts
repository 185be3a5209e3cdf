import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * A checkpoint: the audit service's signed word that the chain's head at `position` was
 * `chainHash`, at `signedAt`. Signed with Ed25519 over a fixed text, so any tool can check it
 * with the public key alone.
 */
export interface Checkpoint {
  readonly position: string;
  readonly chainHash: Buffer;
  readonly signedAt: Date;
}

export function checkpointSigningInput(checkpoint: Checkpoint): Buffer {
  return Buffer.from(`mayfly-audit-checkpoint:v1:${checkpoint.position}:${checkpoint.chainHash.toString('hex')}:${checkpoint.signedAt.toISOString()}`);
}

export function signCheckpoint(checkpoint: Checkpoint, privateKey: KeyObject): Buffer {
  return sign(null, checkpointSigningInput(checkpoint), privateKey);
}

export function checkpointSignatureValid(checkpoint: Checkpoint, signature: Buffer, publicKey: KeyObject): boolean {
  try {
    return verify(null, checkpointSigningInput(checkpoint), publicKey, signature);
  } catch {
    return false;
  }
}

/** An Ed25519 public key from its JWK x (what checkpoint rows and key files carry). */
export function ed25519PublicKey(x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

export function ed25519PrivateKey(jwk: { x: string; d: string }): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d }, format: 'jwk' });
}
