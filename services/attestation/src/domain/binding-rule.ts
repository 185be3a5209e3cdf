import { EVIDENCE_CLAIMS, invalidArgument, validateOptionalText, validateSpiffeId, type EvidenceClaims, type EvidenceIssuerKind } from '@mayfly/core';

/** A binding rule as stored: claims that must equal, and the SPIFFE ID they prove. */
export interface BindingRuleSpec {
  readonly id: string;
  readonly match: Readonly<Record<string, string>>;
  readonly spiffeIdTemplate: string;
}

const PLACEHOLDER = /\{([a-z_]+)\}/g;
/** One SPIFFE path segment, and a trust domain: what a claim may become inside a SPIFFE ID. */
const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_MATCH_CLAIMS = 16;

/** The claim names a template uses, in order. */
export function templateClaims(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((found) => found[1]!);
}

/**
 * Checks a rule an operator wants: claims and placeholders the issuer's kind yields (nothing else
 * is trusted), exact values (no pattern characters: a rule is not a glob), a template that is a
 * SPIFFE ID once filled in, and at least one claim named — a rule that names none would bind
 * every token of the issuer to one workload.
 */
export function checkBindingRule(kind: EvidenceIssuerKind, match: Readonly<Record<string, string>>, template: string, description: string): void {
  const known: readonly string[] = EVIDENCE_CLAIMS[kind];
  const names = Object.keys(match);
  if (names.length > MAX_MATCH_CLAIMS) throw invalidArgument('rule.match', `at most ${MAX_MATCH_CLAIMS} claims`);
  for (const name of names) {
    if (!known.includes(name)) throw invalidArgument(`rule.match.${name}`, `is not a claim of ${kind} evidence; it yields ${known.join(', ')}`);
    const value = match[name]!;
    if (value === '' || value.trim() !== value) throw invalidArgument(`rule.match.${name}`, 'needs a value, without surrounding spaces');
    if (/[*?%]/.test(value)) throw invalidArgument(`rule.match.${name}`, 'must be one exact value: "*", "?" and "%" would read as patterns, and rules match exactly');
    validateOptionalText(`rule.match.${name}`, value, 512);
  }
  const placeholders = templateClaims(template);
  for (const name of placeholders) {
    if (!known.includes(name)) throw invalidArgument('rule.spiffe_id_template', `{${name}} is not a claim of ${kind} evidence; it yields ${known.join(', ')}`);
  }
  if (template.replace(PLACEHOLDER, '').includes('{') || template.replace(PLACEHOLDER, '').includes('}')) {
    throw invalidArgument('rule.spiffe_id_template', 'has a brace that is not a {claim} placeholder');
  }
  // Filled with a sample segment, the template must be a SPIFFE ID.
  validateSpiffeId('rule.spiffe_id_template', template.replace(PLACEHOLDER, 'x'));
  if (names.length === 0 && placeholders.length === 0) {
    throw invalidArgument('rule', 'names no claim: it would bind every token of the issuer to one workload; match at least one claim (e.g. sub, repository, namespace) or place one in the template');
  }
  validateOptionalText('rule.description', description, 256);
}

/** The SPIFFE ID a rule proves for these claims, or undefined when it does not apply. */
export function applyBindingRule(rule: BindingRuleSpec, claims: EvidenceClaims): string | undefined {
  for (const [name, value] of Object.entries(rule.match)) {
    if (claims[name] !== value) return undefined;
  }
  let usable = true;
  const spiffeId = rule.spiffeIdTemplate.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = claims[name];
    // A value that is not one plain segment ("a/b", "..", "") could reach another workload's ID.
    if (value === undefined || !SEGMENT.test(value) || value === '.' || value === '..') usable = false;
    return value ?? '';
  });
  return usable ? spiffeId : undefined;
}

export type BindingAnswer = { readonly spiffeId: string; readonly ruleIds: readonly string[] } | { readonly problem: string } | undefined;

/**
 * Which workload the claims prove under these rules: none, one (every applying rule agrees), or
 * a refusal when rules disagree — ambiguity is not resolved by order.
 */
export function resolveBindingRules(rules: readonly BindingRuleSpec[], claims: EvidenceClaims): BindingAnswer {
  const proven = new Map<string, string[]>();
  for (const rule of rules) {
    const spiffeId = applyBindingRule(rule, claims);
    if (spiffeId !== undefined) proven.set(spiffeId, [...(proven.get(spiffeId) ?? []), rule.id]);
  }
  if (proven.size === 0) return undefined;
  if (proven.size > 1) {
    const which = [...proven].map(([spiffeId, ids]) => `${spiffeId} (rule ${ids.join(', ')})`).join('; ');
    return { problem: `binding rules disagree about this evidence: ${which}; an operator must remove or narrow one` };
  }
  const [[spiffeId, ruleIds]] = [...proven] as [[string, string[]]];
  return { spiffeId, ruleIds };
}
