import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * A checkpoint: the audit service's signed word that the chain's head at `position` was
 * `chainHash`, at `signedAt`. Signed with Ed25519 over a fixed text, so any tool can check it
 * with the public key alone. From v2 on each checkpoint also names the position of the one
 * before it (`previousPosition`), so a checkpoint removed from the middle or the end of the
 * table leaves a gap that verification names.
 */
export interface Checkpoint {
  readonly position: string;
  readonly chainHash: Buffer;
  readonly signedAt: Date;
  /** The previous checkpoint's position ('0' for the first); undefined on v1 checkpoints. */
  readonly previousPosition?: string | undefined;
}

export function checkpointSigningInput(checkpoint: Checkpoint): Buffer {
  const common = `${checkpoint.position}:${checkpoint.chainHash.toString('hex')}:${checkpoint.signedAt.toISOString()}`;
  return Buffer.from(checkpoint.previousPosition === undefined ? `mayfly-audit-checkpoint:v1:${common}` : `mayfly-audit-checkpoint:v2:${common}:${checkpoint.previousPosition}`);
}

export function signCheckpoint(checkpoint: Checkpoint, privateKey: KeyObject): Buffer {
  return sign(null, checkpointSigningInput(checkpoint), privateKey);
}

export function checkpointSignatureValid(checkpoint: Checkpoint, signature: Buffer, publicKey: KeyObject): boolean {
  return signatureValid(checkpointSigningInput(checkpoint), signature, publicKey);
}

/**
 * The chain's head as the audit service last saw it, signed and published outside the database
 * (a JetStream stream only the audit service may publish to): after every append (coalesced) and
 * at every checkpoint interval even when nothing was appended. Whoever owns the database can
 * delete rows, checkpoints included, and move `audit_chain_head` back — but cannot make the
 * external head forget a position it signed, nor sign a fresh one. So a log that ends before the
 * head, a newest checkpoint older than the one the head names, and a head older than the
 * interval (signing stopped, or the record is withheld) are all detectable.
 */
export interface ChainHead {
  readonly position: string;
  readonly chainHash: Buffer;
  readonly signedAt: Date;
  /** The newest checkpoint in the database when the head was signed ('0' if none). */
  readonly checkpointPosition: string;
}

/** A head as published: the head, the key's JWK x and the signature (JSON on the wire). */
export interface SignedChainHead extends ChainHead {
  readonly publicKey: string;
  readonly signature: Buffer;
}

export function chainHeadSigningInput(head: ChainHead): Buffer {
  return Buffer.from(`mayfly-audit-head:v1:${head.position}:${head.chainHash.toString('hex')}:${head.signedAt.toISOString()}:${head.checkpointPosition}`);
}

export function signChainHead(head: ChainHead, privateKey: KeyObject, publicKey: string): SignedChainHead {
  return { ...head, publicKey, signature: sign(null, chainHeadSigningInput(head), privateKey) };
}

export function chainHeadSignatureValid(head: SignedChainHead): boolean {
  try {
    return signatureValid(chainHeadSigningInput(head), head.signature, ed25519PublicKey(head.publicKey));
  } catch {
    return false;
  }
}

/** The wire form of a signed head (JSON: hashes and signatures base64url). */
export function encodeChainHead(head: SignedChainHead): string {
  return JSON.stringify({
    v: 1,
    position: head.position,
    chainHash: head.chainHash.toString('base64url'),
    signedAt: head.signedAt.toISOString(),
    checkpointPosition: head.checkpointPosition,
    publicKey: head.publicKey,
    signature: head.signature.toString('base64url'),
  });
}

/** A signed head from its wire form; throws saying what is malformed (the signature is not checked here). */
export function decodeChainHead(text: string): SignedChainHead {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const digits = (value: unknown, field: string): string => {
    if (typeof value !== 'string' || !/^\d{1,19}$/.test(value)) throw new Error(`the head's ${field} is not a position`);
    return value;
  };
  const bytes = (value: unknown, field: string): Buffer => {
    if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) throw new Error(`the head's ${field} is not base64url`);
    return Buffer.from(value, 'base64url');
  };
  if (raw['v'] !== 1) throw new Error('the head is not of version 1');
  const signedAt = new Date(String(raw['signedAt']));
  if (Number.isNaN(signedAt.getTime())) throw new Error("the head's signedAt is not a time");
  if (typeof raw['publicKey'] !== 'string') throw new Error("the head's publicKey is missing");
  return {
    position: digits(raw['position'], 'position'),
    chainHash: bytes(raw['chainHash'], 'chainHash'),
    signedAt,
    checkpointPosition: digits(raw['checkpointPosition'], 'checkpointPosition'),
    publicKey: raw['publicKey'],
    signature: bytes(raw['signature'], 'signature'),
  };
}

function signatureValid(input: Buffer, signature: Buffer, publicKey: KeyObject): boolean {
  try {
    return verify(null, input, publicKey, signature);
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
