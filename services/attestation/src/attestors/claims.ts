import type { EvidenceClaims } from '@mayfly/core';

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const MAX_CLAIM_LENGTH = 512;

/** A claim mapper's verdict: the claims, or why the token is not what its issuer kind issues. */
export type MappedClaims = { readonly claims: Record<string, string> } | { readonly problem: string };

/**
 * Copies the named claims that are present as text (numbers and booleans written out), refusing
 * values that could not safely reach a SPIFFE ID, an audit record or a policy: control
 * characters, or more than 512 characters. Absent claims stay absent; nothing unnamed is copied.
 */
export function pickClaims(source: Readonly<Record<string, unknown>>, names: readonly string[]): MappedClaims {
  const claims: Record<string, string> = {};
  for (const name of names) {
    const value = source[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return { problem: `claim ${name} is not a string, number or boolean` };
    const text = String(value);
    if (text.length > MAX_CLAIM_LENGTH || CONTROL_CHARACTERS.test(text)) return { problem: `claim ${name} is longer than ${MAX_CLAIM_LENGTH} characters or holds control characters` };
    claims[name] = text;
  }
  return { claims };
}

/** The trust_domain claim comes from the issuer's registration, never from the token. */
export function withTrustDomain(claims: Record<string, string>, trustDomain: string | undefined): EvidenceClaims {
  const { trust_domain: _ignored, ...rest } = claims;
  return trustDomain ? { ...rest, trust_domain: trustDomain } : rest;
}
