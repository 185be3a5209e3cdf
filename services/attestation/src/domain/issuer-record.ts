import { invalidArgument, validateOptionalText, validateSpiffeId } from '@mayfly/core';
import type { TrustedIssuerInput, TrustedIssuerRow } from '@mayfly/db';
import { IssuerKind, ReplayPolicy, type Binding, type TrustedIssuer } from '@mayfly/proto';

/** The signature algorithms an issuer may be trusted with (never "none", never HMAC). */
const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'];
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

/**
 * Checks an issuer an operator wants trusted: an https issuer, an audience, keys from exactly
 * one place (an https URL, or a public key set — a private key is refused), an allow-list of
 * asymmetric algorithms, a bounded evidence lifetime, and a replay policy.
 */
export function readIssuerRecord(issuer: TrustedIssuer | undefined): TrustedIssuerInput {
  if (!issuer) throw invalidArgument('issuer', 'is required');
  httpsUrl('issuer.issuer', issuer.issuer);
  if (issuer.audience.trim() === '') throw invalidArgument('issuer.audience', 'is required: the aud its evidence for Mayfly carries');
  validateOptionalText('issuer.audience', issuer.audience, 256);
  if (Boolean(issuer.jwksUri) === Boolean(issuer.jwksJson)) throw invalidArgument('issuer.jwks_uri', 'set exactly one of jwks_uri (https) and jwks_json');
  let jwks: { keys: unknown[] } | undefined;
  if (issuer.jwksUri) httpsUrl('issuer.jwks_uri', issuer.jwksUri);
  else jwks = readKeySet(issuer.jwksJson);
  const algorithms = issuer.algorithms.length > 0 ? issuer.algorithms : ['ES256', 'RS256'];
  const unknown = algorithms.filter((algorithm) => !ALGORITHMS.includes(algorithm));
  if (unknown.length > 0) throw invalidArgument('issuer.algorithms', `${unknown.join(', ')} not accepted: choose from ${ALGORITHMS.join(', ')}`);
  if (issuer.maxEvidenceLifetimeSeconds > MAX_LIFETIME) throw invalidArgument('issuer.max_evidence_lifetime_seconds', `must be at most ${MAX_LIFETIME}`);
  const kind = issuer.kind === IssuerKind.ISSUER_KIND_KUBERNETES ? 'kubernetes' : issuer.kind === IssuerKind.ISSUER_KIND_OIDC ? 'oidc' : undefined;
  if (!kind) throw invalidArgument('issuer.kind', 'must be ISSUER_KIND_OIDC or ISSUER_KIND_KUBERNETES');
  return {
    issuer: issuer.issuer,
    audience: issuer.audience,
    jwksUri: issuer.jwksUri || undefined,
    jwks,
    algorithms: [...new Set(algorithms)],
    requireLowS: issuer.requireLowS,
    maxEvidenceLifetimeSeconds: issuer.maxEvidenceLifetimeSeconds || MAX_LIFETIME,
    kind,
    replayPolicy:
      issuer.replayPolicy === ReplayPolicy.REPLAY_POLICY_SINGLE_USE ? 'single-use' : issuer.replayPolicy === ReplayPolicy.REPLAY_POLICY_REUSABLE_UNTIL_EXPIRY ? 'reusable-until-expiry' : undefined,
  };
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
export function toIssuerMessage(row: TrustedIssuerRow): TrustedIssuer {
  return {
    issuer: row.issuer,
    kind: row.kind === 'kubernetes' ? IssuerKind.ISSUER_KIND_KUBERNETES : IssuerKind.ISSUER_KIND_OIDC,
    audience: row.audience,
    jwksUri: row.jwks_uri ?? '',
    jwksJson: row.jwks ? JSON.stringify(row.jwks) : '',
    algorithms: row.algorithms,
    requireLowS: row.require_low_s,
    maxEvidenceLifetimeSeconds: row.max_evidence_lifetime_seconds,
    replayPolicy:
      row.replay_policy === 'single-use' ? ReplayPolicy.REPLAY_POLICY_SINGLE_USE : row.replay_policy === 'reusable-until-expiry' ? ReplayPolicy.REPLAY_POLICY_REUSABLE_UNTIL_EXPIRY : ReplayPolicy.REPLAY_POLICY_UNSPECIFIED,
  };
}

/**
 * A binding names one subject exactly: a wildcard, an empty or whitespace-padded subject would
 * bind evidence the operator did not mean to trust.
 */
export function readBinding(binding: Binding | undefined): { issuer: string; subject: string; spiffeId: string } {
  if (!binding) throw invalidArgument('binding', 'is required');
  httpsUrl('binding.issuer', binding.issuer);
  if (binding.subject === '' || binding.subject.trim() !== binding.subject) throw invalidArgument('binding.subject', 'is required, without surrounding spaces');
  if (/[*?%]/.test(binding.subject)) throw invalidArgument('binding.subject', 'must name one subject exactly: "*", "?" and "%" would read as patterns, and a binding that matches everything is refused');
  validateOptionalText('binding.subject', binding.subject, 512);
  validateSpiffeId('binding.spiffe_id', binding.spiffeId);
  return { issuer: binding.issuer, subject: binding.subject, spiffeId: binding.spiffeId };
}
