import { type RiskTierName, type StoredGrant, type WorkloadInput } from '@mayfly/model';
import { LIMITS, checkCeiling, invalidArgument, validateActions, validateOptionalText, validateResource, validateSpiffeId } from '@mayfly/core';
import { RiskTier, type Workload } from '@mayfly/proto';

const RISK_TIERS: Partial<Record<RiskTier, RiskTierName>> = {
  [RiskTier.RISK_TIER_LOW]: 'low',
  [RiskTier.RISK_TIER_MEDIUM]: 'medium',
  [RiskTier.RISK_TIER_HIGH]: 'high',
  [RiskTier.RISK_TIER_CRITICAL]: 'critical',
};
const ENVIRONMENT = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MAX_CEILING_ENTRIES = 64;

/**
 * Checks a workload record an operator sends before anything is written: a well-formed SPIFFE ID
 * (in one of `trustDomains`, when any are configured), an owner team and contact (separation of duties is judged on
 * them), an environment and risk tier policies can read, and a ceiling of valid entries (a "*"
 * only at the end of a resource, each action once).
 */
export function readWorkloadRecord(workload: Workload | undefined, trustDomains: readonly string[]): WorkloadInput {
  if (!workload) throw invalidArgument('workload', 'is required');
  validateSpiffeId('workload.spiffe_id', workload.spiffeId);
  const domain = workload.spiffeId.slice('spiffe://'.length).split('/', 1)[0] ?? '';
  if (trustDomains.length > 0 && !trustDomains.includes(domain)) {
    throw invalidArgument('workload.spiffe_id', `must be in a trust domain workloads are registered in (${trustDomains.join(', ')}; MAYFLY_WORKLOAD_TRUST_DOMAINS), not ${domain}`);
  }
  for (const [field, value] of [['owner_team', workload.ownerTeam], ['owner_contact', workload.ownerContact]] as const) {
    if (value.trim() === '') throw invalidArgument(`workload.${field}`, 'is required: approvals are judged on who owns a workload');
    validateOptionalText(`workload.${field}`, value, 256);
  }
  if (!ENVIRONMENT.test(workload.environment)) throw invalidArgument('workload.environment', 'must be 1 to 32 of a-z 0-9 - (e.g. "prod", "dev")');
  const riskTier = RISK_TIERS[workload.riskTier];
  if (!riskTier) throw invalidArgument('workload.risk_tier', 'must be RISK_TIER_LOW, _MEDIUM, _HIGH or _CRITICAL');
  if (workload.ceiling.length > MAX_CEILING_ENTRIES) throw invalidArgument('workload.ceiling', `at most ${MAX_CEILING_ENTRIES} entries`);
  workload.ceiling.forEach((entry, i) => {
    const field = `workload.ceiling[${i}]`;
    const prefix = entry.resource.endsWith('*') ? entry.resource.slice(0, -1) : entry.resource;
    if (prefix.includes('*')) throw invalidArgument(`${field}.resource`, 'may end in "*" (a prefix), and hold no other "*"');
    if (prefix === '') throw invalidArgument(`${field}.resource`, 'a bare "*" would allow every resource: name the resources, or a prefix of them');
    validateResource(`${field}.resource`, prefix.length < entry.resource.length ? `${prefix}x` : prefix);
    validateActions(`${field}.actions`, entry.actions);
  });
  validateOptionalText('workload.spiffe_id', workload.spiffeId, LIMITS.spiffeIdMaxLength);
  return {
    spiffeId: workload.spiffeId,
    ownerTeam: workload.ownerTeam.trim(),
    ownerContact: workload.ownerContact.trim(),
    environment: workload.environment,
    riskTier,
    shared: workload.shared,
    ceiling: workload.ceiling.map((entry) => ({ resource: entry.resource, actions: [...entry.actions] })),
    breakGlassAllowed: workload.breakGlassAllowed,
  };
}

/**
 * The fields a change touched, before and after, for the audit record. A ceiling is written as
 * "resource=action,action" lines: readable, and shallow enough for the audit record's bounds.
 */
export function changedFields(before: WorkloadInput, after: WorkloadInput): Record<string, { before: unknown; after: unknown }> {
  const changed: Record<string, { before: unknown; after: unknown }> = {};
  const flat = (record: WorkloadInput, key: (typeof FIELDS)[number]): unknown =>
    key === 'ceiling' ? record.ceiling.map((entry) => `${entry.resource}=${entry.actions.join(',')}`) : (record[key] ?? false);
  for (const key of FIELDS) {
    const was = flat(before, key);
    const is = flat(after, key);
    if (JSON.stringify(was) !== JSON.stringify(is)) changed[key] = { before: was, after: is };
  }
  return changed;
}

const FIELDS = ['ownerTeam', 'ownerContact', 'environment', 'riskTier', 'shared', 'ceiling', 'breakGlassAllowed'] as const;

/** Live grants a ceiling no longer covers: an action, or the resource, outside it. */
export function grantsBeyond(ceiling: WorkloadInput['ceiling'], grants: readonly StoredGrant[]): StoredGrant[] {
  return grants.filter((grant) => checkCeiling(ceiling, grant.resource, grant.actions).outside.length > 0);
}
