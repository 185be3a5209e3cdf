import { type TrustedIssuerInput, type TrustedIssuerRecord } from '@mayfly/model';
import { DEFAULT_ISSUER_ALGORITHMS, ISSUER_KINDS, ISSUER_KIND_NAMES, EVIDENCE_ALGORITHMS, TRUST_DOMAIN, invalidArgument, isEvidenceAlgorithm, validateOptionalText, validateSpiffeId } from '@mayfly/core';
import type { X509Certificate } from 'node:crypto';
import { IssuerKind, ReplayPolicy, type Binding, type TrustedIssuer } from '@mayfly/proto';
import { oneLine, readPemBundle } from './certificate-chain.js';

const MAX_LIFETIME = 86_400;

function httpsUrl(field: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidArgument(field, 'must be an https URL');
  }
  if (url.protocol !== 'https:') throw invalidArgument(field, `must be https (it is ${url.protocol.replace(':', '')}): keys and issuers are trusted only over TLS`);
  if (value.length > 512) throw invalidArgument(field, 'must be at most 512 characters');
}

/** The contract's enum value for each kind, from the issuer-kind table. */
const KINDS: readonly (readonly [IssuerKind, TrustedIssuerRecord['kind']])[] = ISSUER_KIND_NAMES.map((kind) => [IssuerKind[ISSUER_KINDS[kind].contract], kind] as const);
const X509_NAME = /^[A-Za-z0-9._:\/-]{1,128}$/;
/** Proof-of-possession assertions for a certificate need live only seconds: the default for x509. */
const X509_DEFAULT_LIFETIME = 300;

/**
 * Checks an issuer an operator wants trusted. JWT issuers (OIDC, Kubernetes, GitHub Actions,
 * GitLab CI): an https issuer, its audiences, keys from exactly one place (an https URL, or a public
 * key set — a private key is refused), an allow-list of asymmetric algorithms, a bounded evidence
 * lifetime, and a replay policy. A SPIFFE trust domain: "spiffe://<trust domain>" and its JWT
 * bundle the same way. An X.509 CA: a name, CA certificates in PEM, audiences.
 */
export function readIssuerRecord(issuer: TrustedIssuer | undefined): TrustedIssuerInput {
  if (!issuer) throw invalidArgument('issuer', 'is required');
  const kind = KINDS.find(([value]) => value === issuer.kind)?.[1];
  if (!kind) throw invalidArgument('issuer.kind', `must be one of ${KINDS.map(([value]) => IssuerKind[value]).join(', ')}`);
  const audiences = readAudiences(issuer.audiences);
  if (issuer.trustDomain && !TRUST_DOMAIN.test(issuer.trustDomain)) throw invalidArgument('issuer.trust_domain', 'must be a trust domain name: lower-case letters, digits, ".", "-" and "_"');
  const algorithms = issuer.algorithms.length > 0 ? issuer.algorithms : [...DEFAULT_ISSUER_ALGORITHMS];
  const unknown = algorithms.filter((algorithm) => !isEvidenceAlgorithm(algorithm));
  if (unknown.length > 0) throw invalidArgument('issuer.algorithms', `${unknown.join(', ')} not accepted: choose from ${EVIDENCE_ALGORITHMS.join(', ')} (see libs/core/src/crypto-policy.ts)`);
  if (issuer.maxEvidenceLifetimeSeconds > MAX_LIFETIME) throw invalidArgument('issuer.max_evidence_lifetime_seconds', `must be at most ${MAX_LIFETIME}`);
  const common: TrustedIssuerInput = {
    issuer: issuer.issuer,
    audiences,
    algorithms: [...new Set(algorithms)],
    requireLowS: issuer.requireLowS,
    kind,
    trustDomain: issuer.trustDomain || undefined,
    replayPolicy:
      issuer.replayPolicy === ReplayPolicy.REPLAY_POLICY_SINGLE_USE ? 'single-use' : issuer.replayPolicy === ReplayPolicy.REPLAY_POLICY_REUSABLE_UNTIL_EXPIRY ? 'reusable-until-expiry' : undefined,
  };
  if (kind === 'x509') {
    if (!X509_NAME.test(issuer.issuer)) throw invalidArgument('issuer.issuer', 'names the CA: 1–128 letters, digits, ".", "_", ":", "/" or "-"');
    if (issuer.jwksUri || issuer.jwksJson) throw invalidArgument('issuer.jwks_uri', 'an X.509 CA has certificates (ca_pem), not a key set');
    return { ...common, caPem: readCaBundle(issuer.caPem), maxEvidenceLifetimeSeconds: issuer.maxEvidenceLifetimeSeconds || X509_DEFAULT_LIFETIME };
  }
  if (issuer.caPem) throw invalidArgument('issuer.ca_pem', 'is for issuers of kind ISSUER_KIND_X509 only');
  if (kind === 'spiffe') {
    const trustDomain = /^spiffe:\/\/([^/]+)$/.exec(issuer.issuer)?.[1];
    if (trustDomain !== undefined && !TRUST_DOMAIN.test(trustDomain)) throw invalidArgument('issuer.issuer', `"${trustDomain}" is not a trust domain name: lower-case letters, digits, ".", "-" and "_"`);
    if (!trustDomain) throw invalidArgument('issuer.issuer', 'a SPIFFE bundle is registered as "spiffe://<trust domain>" (no path)');
    if (issuer.trustDomain && issuer.trustDomain !== trustDomain) throw invalidArgument('issuer.trust_domain', `is ${trustDomain} for this bundle`);
  } else {
    httpsUrl('issuer.issuer', issuer.issuer);
  }
  if (Boolean(issuer.jwksUri) === Boolean(issuer.jwksJson)) throw invalidArgument('issuer.jwks_uri', 'set exactly one of jwks_uri (https) and jwks_json');
  let jwks: { keys: unknown[] } | undefined;
  if (issuer.jwksUri) httpsUrl('issuer.jwks_uri', issuer.jwksUri);
  else jwks = readKeySet(issuer.jwksJson);
  return { ...common, jwksUri: issuer.jwksUri || undefined, jwks, maxEvidenceLifetimeSeconds: issuer.maxEvidenceLifetimeSeconds || MAX_LIFETIME };
}

const MAX_AUDIENCES = 8;

/** One to eight distinct audiences, each a plain value (no padding, no control characters). */
function readAudiences(audiences: readonly string[]): string[] {
  if (audiences.length === 0) throw invalidArgument('issuer.audiences', 'at least one is required: the aud its evidence for Mayfly carries');
  if (audiences.length > MAX_AUDIENCES) throw invalidArgument('issuer.audiences', `at most ${MAX_AUDIENCES}`);
  for (const audience of audiences) {
    if (audience.trim() === '' || audience.trim() !== audience) throw invalidArgument('issuer.audiences', 'each must be non-empty, without surrounding spaces');
    validateOptionalText('issuer.audiences', audience, 256);
  }
  if (new Set(audiences).size !== audiences.length) throw invalidArgument('issuer.audiences', 'lists an audience twice');
  return [...audiences];
}

/** CA certificates, PEM: at least one, each a CA certificate, no private key. */
function readCaBundle(pem: string): string {
  if (pem.includes('PRIVATE KEY')) throw invalidArgument('issuer.ca_pem', 'holds a private key: give only the CA certificates');
  let certificates: X509Certificate[];
  try {
    certificates = readPemBundle(pem);
  } catch {
    throw invalidArgument('issuer.ca_pem', 'holds a certificate that does not parse');
  }
  if (certificates.length === 0) throw invalidArgument('issuer.ca_pem', 'is required for an X.509 CA: its certificates in PEM');
  if (certificates.length > 20) throw invalidArgument('issuer.ca_pem', 'at most 20 certificates');
  const notCa = certificates.find((certificate) => !certificate.ca);
  if (notCa) throw invalidArgument('issuer.ca_pem', `${oneLine(notCa.subject)} is not a CA certificate`);
  return pem.trim();
}

function readKeySet(text: string): { keys: unknown[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidArgument('issuer.jwks_json', 'is not JSON');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw invalidArgument('issuer.jwks_json', 'must be a key set: { "keys": [ … ] } with at least one key');
  for (const key of keys) {
    const jwk = key as Record<string, unknown> | null;
    if (typeof jwk?.['kty'] !== 'string') throw invalidArgument('issuer.jwks_json', 'every key needs a kty');
    if (jwk['d'] !== undefined || jwk['k'] !== undefined) throw invalidArgument('issuer.jwks_json', 'holds a private or symmetric key: publish only public keys');
  }
  return { keys };
}

/** An issuer row as the contract's message. */
export function toIssuerMessage(row: TrustedIssuerRecord): TrustedIssuer {
  return {
    issuer: row.issuer,
    kind: KINDS.find(([, name]) => name === row.kind)?.[0] ?? IssuerKind.ISSUER_KIND_UNSPECIFIED,
    audiences: row.audiences,
    jwksUri: row.jwks_uri ?? '',
    jwksJson: row.jwks ? JSON.stringify(row.jwks) : '',
    algorithms: row.algorithms,
    requireLowS: row.require_low_s,
    maxEvidenceLifetimeSeconds: row.max_evidence_lifetime_seconds,
    replayPolicy:
      row.replay_policy === 'single-use' ? ReplayPolicy.REPLAY_POLICY_SINGLE_USE : row.replay_policy === 'reusable-until-expiry' ? ReplayPolicy.REPLAY_POLICY_REUSABLE_UNTIL_EXPIRY : ReplayPolicy.REPLAY_POLICY_UNSPECIFIED,
    trustDomain: row.trust_domain ?? '',
    caPem: row.ca_pem ?? '',
  };
}

/**
 * A binding names one subject exactly: a wildcard, an empty or whitespace-padded subject would
 * bind evidence the operator did not mean to trust.
 */
export function readBinding(binding: Binding | undefined): { issuer: string; subject: string; spiffeId: string } {
  if (!binding) throw invalidArgument('binding', 'is required');
  if (!/^\S{1,512}$/.test(binding.issuer)) throw invalidArgument('binding.issuer', 'is required: the trusted issuer, as registered');
  if (binding.subject === '' || binding.subject.trim() !== binding.subject) throw invalidArgument('binding.subject', 'is required, without surrounding spaces');
  if (/[*?%]/.test(binding.subject)) throw invalidArgument('binding.subject', 'must name one subject exactly: "*", "?" and "%" would read as patterns, and a binding that matches everything is refused');
  validateOptionalText('binding.subject', binding.subject, 512);
  validateSpiffeId('binding.spiffe_id', binding.spiffeId);
  return { issuer: binding.issuer, subject: binding.subject, spiffeId: binding.spiffeId };
}
