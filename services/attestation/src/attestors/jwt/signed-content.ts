import { sha256Hex } from '@mayfly/core';

/**
 * The parts of a compact JWS that decide whether two spellings are the same evidence.
 *
 * One signed token can be written many ways: base64url leaves unused low bits in the last
 * character of a segment (a decoder ignores them), and an ECDSA signature (r, s) has a twin
 * (r, n − s) that verifies just as well. Replay detection therefore keys on *what was signed*
 * — the signing input, header.payload exactly as the signer produced it — and the attestor
 * refuses any spelling that is not the canonical one.
 */
export interface SignedContent {
  /** SHA-256 (hex) of the JWS signing input: the same for every respelling of one token. */
  readonly digest: string;
  readonly algorithm: string;
  readonly signature: Buffer;
}

/** Why a token is not in canonical form; undefined when it is. */
export type CanonicalFormProblem = string | undefined;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** True when `segment` is the one and only base64url spelling of the bytes it decodes to. */
export function isCanonicalBase64url(segment: string): boolean {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) return false;
  return Buffer.from(segment, 'base64url').toString('base64url') === segment;
}

/**
 * Reads a compact JWS for replay detection. Returns a problem when a segment is spelled
 * non-canonically (which no honest signer produces).
 */
export function readSignedContent(compact: string): SignedContent | { problem: string } {
  const segments = compact.split('.');
  if (segments.length !== 3) return { problem: 'evidence is not a compact JWS (three dot-separated parts)' };
  const names = ['header', 'payload', 'signature'];
  for (const [index, segment] of segments.entries()) {
    if (!isCanonicalBase64url(segment)) return { problem: `evidence ${names[index]} is not canonical base64url (respelled or padded)` };
  }
  const [header, payload, signature] = segments as [string, string, string];
  let algorithm: unknown;
  try {
    algorithm = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown }).alg;
  } catch {
    return { problem: 'evidence header is not JSON' };
  }
  return {
    digest: sha256Hex(`${header}.${payload}`),
    algorithm: typeof algorithm === 'string' ? algorithm : '',
    signature: Buffer.from(signature, 'base64url'),
  };
}

/** Curve orders of the ECDSA algorithms JOSE defines. */
const CURVE_ORDER: Readonly<Record<string, bigint>> = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

/**
 * For ECDSA signatures (JOSE's r‖s form): true when s is in the upper half of the curve order,
 * i.e. the "high-S" twin of a signature that also verifies. Other algorithms: false.
 */
export function isHighS(algorithm: string, signature: Buffer): boolean {
  const order = CURVE_ORDER[algorithm];
  if (order === undefined || signature.length % 2 !== 0) return false;
  const s = BigInt(`0x${signature.subarray(signature.length / 2).toString('hex') || '0'}`);
  return s > order / 2n;
}
