import { X509Certificate, createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { Evidence } from '@mayfly/proto';

/** What MayflyClientOptions.evidence returns: an OIDC token (a string), or evidence of any kind. */
export type EvidenceSource = string | Evidence;

/** A string is an OIDC token (Kubernetes service-account, CI, cloud IdP); anything else is sent as is. */
export function asEvidence(source: EvidenceSource): Evidence {
  return typeof source === 'string' ? { oidcToken: source } : source;
}

/** A SPIFFE JWT-SVID (from the SPIFFE Workload API), audience Mayfly's. */
export function jwtSvidEvidence(jwtSvid: string): Evidence {
  return { jwtSvid };
}

/** A one-time join token an operator created for this workload (mayfly join-tokens create). */
export function joinTokenEvidence(joinToken: string): Evidence {
  return { joinToken };
}

const CURVE_ORDERS: Record<string, { alg: string; hash: string; size: number; order: bigint }> = {
  prime256v1: { alg: 'ES256', hash: 'sha256', size: 32, order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n },
  secp384r1: { alg: 'ES384', hash: 'sha384', size: 48, order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n },
};

/**
 * Evidence of an X.509 certificate (an enterprise PKI's, or a SPIFFE X.509-SVID): a compact JWS
 * signed with the certificate's private key, the chain (leaf first) in x5c, aud Mayfly's, valid
 * for `lifetimeSeconds` (default 60) — proof of possession without a round trip. Attestation
 * accepts it once. ECDSA P-256/P-384 (low-S), Ed25519 or RSA keys.
 */
export function x509Evidence(options: { certificateChainPem: string; privateKeyPem: string; audience: string; lifetimeSeconds?: number }): Evidence {
  const chain = options.certificateChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (chain.length === 0) throw new Error('certificateChainPem holds no certificate');
  const x5c = chain.map((pem) => new X509Certificate(pem).raw.toString('base64'));
  const key = createPrivateKey(options.privateKeyPem);
  const now = Math.floor(Date.now() / 1000);
  const { alg, signature } = signer(key);
  const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT', x5c })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ aud: options.audience, iat: now, exp: now + (options.lifetimeSeconds ?? 60), jti: randomUUID() })).toString('base64url');
  const input = `${header}.${payload}`;
  return { x509Assertion: `${input}.${signature(Buffer.from(input)).toString('base64url')}` };
}

function signer(key: KeyObject): { alg: string; signature: (input: Buffer) => Buffer } {
  if (key.asymmetricKeyType === 'ed25519') return { alg: 'EdDSA', signature: (input) => sign(null, input, key) };
  if (key.asymmetricKeyType === 'rsa') return { alg: 'RS256', signature: (input) => sign('sha256', input, key) };
  const curve = CURVE_ORDERS[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType !== 'ec' || !curve) throw new Error('the key must be ECDSA P-256 or P-384, Ed25519 or RSA');
  return { alg: curve.alg, signature: (input) => lowS(sign(curve.hash, input, { key, dsaEncoding: 'ieee-p1363' }), curve) };
}

/** (r, s) → (r, min(s, n − s)): the one of the two valid signatures that verifiers insisting on low-S accept. */
function lowS(signature: Buffer, curve: { size: number; order: bigint }): Buffer {
  const s = BigInt(`0x${signature.subarray(curve.size).toString('hex')}`);
  if (s <= curve.order / 2n) return signature;
  const low = Buffer.from((curve.order - s).toString(16).padStart(curve.size * 2, '0'), 'hex');
  return Buffer.concat([signature.subarray(0, curve.size), low]);
}
