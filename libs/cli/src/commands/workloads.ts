import { readFileSync } from 'node:fs';
import { ISSUER_KINDS as ISSUER_KIND_TABLE, ISSUER_KIND_NAMES } from '@mayfly/core';
import { serviceAddress } from '@mayfly/config';
import { callUnary, createClient } from '@mayfly/grpc';
import { IssuerKind, RegistryServiceClient, ReplayPolicy, RevocationServiceClient, RiskTier, TrustedIssuer, Workload, riskTierToJSON, type RegisteredWorkload } from '@mayfly/proto';
import type { CommandContext } from '../command.js';
import { asOperator } from '../operator-client.js';
import { oneOf, requireFlags, wholeNumber } from '../flags.js';

/**
 * `mayfly workloads|issuers|bindings …`: the registry (RegistryService on attestation), as the
 * operator. `workloads disable|enable` are in workload.ts (AttestationService).
 */
export const withRegistry = <T>(context: CommandContext, call: (client: RegistryServiceClient) => Promise<T>): Promise<T> => asOperator(context, RegistryServiceClient, 'attestation', call);

function spiffeIdArgument(context: CommandContext, usage: string): string {
  const spiffeId = context.args[0];
  if (!spiffeId) throw new Error(`usage: ${usage}`);
  return spiffeId;
}

/** "pg:orders-db=read,write;s3:reports/*=read" → entitlements. */
export function parseCeiling(text: string): { resource: string; actions: string[] }[] {
  return text
    .split(';')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.lastIndexOf('=');
      if (at <= 0) throw new Error(`--ceiling entry "${entry}": write RESOURCE=ACTION[,ACTION], entries separated by ";"`);
      return { resource: entry.slice(0, at), actions: entry.slice(at + 1).split(',').map((action) => action.trim()).filter(Boolean) };
    });
}

const formatCeiling = (workload: Workload | undefined): string => (workload?.ceiling ?? []).map((entry) => `${entry.resource}=${entry.actions.join(',')}`).join('; ');
const tier = (riskTier: RiskTier): string => riskTierToJSON(riskTier).replace('RISK_TIER_', '').toLowerCase();

function row(entry: RegisteredWorkload): Record<string, string> {
  const w = entry.workload;
  return {
    workload: w?.spiffeId ?? '',
    owner: w ? `${w.ownerTeam} <${w.ownerContact}>` : '',
    env: w?.environment ?? '',
    risk: w ? tier(w.riskTier) : '',
    state: entry.disabledAt ? `disabled since ${entry.disabledAt.toISOString()}` : 'enabled',
    ceiling: formatCeiling(w),
    'break-glass': w?.breakGlassAllowed ? 'allowed' : 'no',
  };
}

/** The record the flags describe, on top of `base` (update changes only what is given). */
function recordFrom(context: CommandContext, spiffeId: string, base?: Workload): Workload {
  const f = context.flags;
  const riskTier = f.riskTier === undefined ? base?.riskTier : oneOf(RISK_TIERS, f.riskTier, '--risk-tier');
  return Workload.fromPartial({
    spiffeId,
    ownerTeam: f.ownerTeam ?? base?.ownerTeam ?? '',
    ownerContact: f.ownerContact ?? base?.ownerContact ?? '',
    environment: f.environment ?? base?.environment ?? '',
    riskTier: riskTier ?? RiskTier.RISK_TIER_UNSPECIFIED,
    shared: f.shared ?? base?.shared ?? false,
    ceiling: f.ceiling === undefined ? (base?.ceiling ?? []) : parseCeiling(f.ceiling),
    breakGlassAllowed: f.breakGlassAllowed === undefined ? (base?.breakGlassAllowed ?? false) : parseBoolean(f.breakGlassAllowed, '--break-glass-allowed'),
  });
}

const RISK_TIERS: Readonly<Record<string, RiskTier>> = { low: RiskTier.RISK_TIER_LOW, medium: RiskTier.RISK_TIER_MEDIUM, high: RiskTier.RISK_TIER_HIGH, critical: RiskTier.RISK_TIER_CRITICAL };

/** "true" or "false", and nothing else: a typo must not open or shut the break-glass door. */
function parseBoolean(value: string, flag: string): boolean {
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`${flag} must be true or false (not ${JSON.stringify(value)})`);
}

/** `mayfly workloads create <spiffe-id> --owner-team T --owner-contact C --environment E --risk-tier R --ceiling C [--shared]`. */
export async function create(context: CommandContext): Promise<void> {
  const usage = 'mayfly workloads create <spiffe-id> --owner-team T --owner-contact C --environment E --risk-tier low|medium|high|critical --ceiling "RES=ACT,ACT;…" [--shared] [--break-glass-allowed true|false] [--reason T]';
  const spiffeId = spiffeIdArgument(context, usage);
  const f = context.flags;
  requireFlags({ '--owner-team': f.ownerTeam, '--owner-contact': f.ownerContact, '--environment': f.environment, '--risk-tier': f.riskTier, '--ceiling': f.ceiling }, usage);
  const response = await withRegistry(context, (client) => callUnary(client, client.createWorkload, { workload: recordFrom(context, spiffeId), reason: context.flags.reason ?? '' }, { target: 'attestation' }));
  context.out.table([row(response.workload!)]);
  context.out.document(response.workload);
}

/**
 * `mayfly workloads update <spiffe-id> [--owner-team …] [--ceiling …] [--revoke-exceeding]`: only
 * the given fields change. A smaller ceiling governs the next grant at once; live grants beyond
 * it are listed, and revoked too with --revoke-exceeding (through the revocation service).
 */
export async function update(context: CommandContext): Promise<void> {
  const spiffeId = spiffeIdArgument(context, 'mayfly workloads update <spiffe-id> [--owner-team T] [--owner-contact C] [--environment E] [--risk-tier R] [--ceiling C] [--shared] [--break-glass-allowed true|false] [--revoke-exceeding] [--reason T]');
  const response = await withRegistry(context, async (client) => {
    const current = await callUnary(client, client.getWorkload, { spiffeId }, { target: 'attestation' });
    return callUnary(client, client.updateWorkload, { workload: recordFrom(context, spiffeId, current.workload?.workload), reason: context.flags.reason ?? '' }, { target: 'attestation' });
  });
  context.out.table([row(response.workload!)]);
  const exceeding = response.exceedingGrants;
  const revoked: string[] = [];
  if (exceeding.length > 0 && context.flags.revokeExceeding) {
    const revocation = createClient(RevocationServiceClient, serviceAddress('revocation'), 'revocation');
    try {
      for (const grant of exceeding) {
        await callUnary(revocation, revocation.revoke, { grantId: grant.id, reason: `ceiling of ${spiffeId} reduced${context.flags.reason ? `: ${context.flags.reason}` : ''}`, requestedBy: process.env['USER'] ?? '', finalStatus: 0 }, { target: 'revocation' }).then(
          () => revoked.push(grant.id),
          (error: Error) => context.out.say(`could not revoke ${grant.id}: ${error.message}`),
        );
      }
    } finally {
      revocation.close();
    }
  }
  if (exceeding.length > 0) {
    context.out.say(`live grants beyond the new ceiling: ${exceeding.map((grant) => `${grant.id} (${grant.resource} ${grant.actions.join(' ')})`).join(', ')}`);
    context.out.say(context.flags.revokeExceeding ? `revoked: ${revoked.length} of ${exceeding.length}` : 'they run until they expire: add --revoke-exceeding to revoke them now');
  }
  context.out.document({ ...response, revokedGrantIds: revoked });
}

/** `mayfly workloads show <spiffe-id>`. */
export async function show(context: CommandContext): Promise<void> {
  const spiffeId = spiffeIdArgument(context, 'mayfly workloads show <spiffe-id>');
  const response = await withRegistry(context, (client) => callUnary(client, client.getWorkload, { spiffeId }, { target: 'attestation' }));
  context.out.table([row(response.workload!)]);
  context.out.document(response.workload);
}

/** `mayfly workloads list [--prefix P] [--limit N]`. */
export async function list(context: CommandContext): Promise<void> {
  const response = await withRegistry(context, (client) => callUnary(client, client.listWorkloads, { prefix: context.flags.prefix ?? '', limit: Number(context.flags.limit ?? 100) }, { target: 'attestation' }));
  context.out.table(response.workloads.map(row));
  context.out.document(response.workloads);
}

/** --kind names → the contract's enum (core's issuer-kind table). */
const ISSUER_KINDS: Record<string, IssuerKind> = Object.fromEntries(ISSUER_KIND_NAMES.map((kind) => [kind, IssuerKind[ISSUER_KIND_TABLE[kind].contract]]));
const REPLAY: Record<string, ReplayPolicy> = { 'single-use': ReplayPolicy.REPLAY_POLICY_SINGLE_USE, reusable: ReplayPolicy.REPLAY_POLICY_REUSABLE_UNTIL_EXPIRY, 'reusable-until-expiry': ReplayPolicy.REPLAY_POLICY_REUSABLE_UNTIL_EXPIRY };

function pick<T>(table: Record<string, T>, value: string | undefined, flag: string, fallback: T): T {
  if (value === undefined) return fallback;
  const found = table[value];
  if (found === undefined) throw new Error(`${flag} ${value}: one of ${Object.keys(table).join(', ')}`);
  return found;
}

const issuerRow = (issuer: TrustedIssuer): Record<string, string> => ({
  issuer: issuer.issuer,
  kind: Object.entries(ISSUER_KINDS).find(([, kind]) => kind === issuer.kind)?.[0] ?? 'unknown',
  audiences: issuer.audiences.join(','),
  keys: issuer.caPem ? 'CA certificates' : issuer.jwksUri || 'inline key set',
  trustDomain: issuer.trustDomain,
  algorithms: issuer.algorithms.join(','),
  replay: issuer.replayPolicy === ReplayPolicy.REPLAY_POLICY_SINGLE_USE ? 'single-use' : issuer.replayPolicy === ReplayPolicy.REPLAY_POLICY_REUSABLE_UNTIL_EXPIRY ? 'reusable' : 'default',
});

const ISSUERS_PUT_USAGE =
  'mayfly issuers put <issuer> --audience A [--audience B …] (--jwks-uri URL | --jwks-file FILE | --ca-file PEM) [--issuer-kind oidc|kubernetes|github-actions|gitlab-ci|spiffe|x509] ' +
  '[--trust-domain TD] [--algorithms A,B] [--replay single-use|reusable] [--max-lifetime S]';

/** `mayfly issuers put <issuer> …`: an OIDC issuer or platform (https URL), a SPIFFE bundle (spiffe://TD) or an X.509 CA (a name, --ca-file). */
export async function issuersPut(context: CommandContext): Promise<void> {
  const issuer = spiffeIdArgument(context, ISSUERS_PUT_USAGE);
  const f = context.flags;
  const record = TrustedIssuer.fromPartial({
    issuer,
    kind: pick(ISSUER_KINDS, f.issuerKind, '--issuer-kind', IssuerKind.ISSUER_KIND_OIDC),
    audiences: [...f.audiences],
    jwksUri: f.jwksUri ?? '',
    jwksJson: f.jwksFile ? readFileSync(f.jwksFile, 'utf8') : '',
    algorithms: (f.algorithms ?? '').split(',').filter(Boolean),
    requireLowS: true,
    maxEvidenceLifetimeSeconds: wholeNumber(f.maxLifetime, '--max-lifetime', { min: 1, max: 86_400 }, 0),
    replayPolicy: pick(REPLAY, f.replay, '--replay', ReplayPolicy.REPLAY_POLICY_UNSPECIFIED),
    trustDomain: f.trustDomain ?? '',
    caPem: f.caFile ? readFileSync(f.caFile, 'utf8') : '',
  });
  const response = await withRegistry(context, (client) => callUnary(client, client.putTrustedIssuer, { issuer: record, reason: f.reason ?? '' }, { target: 'attestation' }));
  context.out.table([{ ...issuerRow(response.issuer!), change: response.created ? 'trusted' : 'updated' }]);
  context.out.say('attestation sees the change within MAYFLY_ISSUER_CACHE_MS (default 10 s)');
  context.out.document(response);
}

/** `mayfly issuers list`. */
export async function issuersList(context: CommandContext): Promise<void> {
  const response = await withRegistry(context, (client) => callUnary(client, client.listTrustedIssuers, {}, { target: 'attestation' }));
  context.out.table(response.issuers.map(issuerRow));
  context.out.document(response.issuers);
}

/** `mayfly issuers remove <issuer>`: its bindings go with it. */
export async function issuersRemove(context: CommandContext): Promise<void> {
  const issuer = spiffeIdArgument(context, 'mayfly issuers remove <issuer-url> [--reason T]');
  const response = await withRegistry(context, (client) => callUnary(client, client.removeTrustedIssuer, { issuer, reason: context.flags.reason ?? '' }, { target: 'attestation' }));
  context.out.table([{ issuer, bindingsRemoved: String(response.bindingsRemoved) }]);
  context.out.document(response);
}

/** `mayfly bindings put <issuer> <subject> <spiffe-id>`. */
export async function bindingsPut(context: CommandContext): Promise<void> {
  const [issuer, subject, spiffeId] = context.args;
  if (!issuer || !subject || !spiffeId) throw new Error('usage: mayfly bindings put <issuer-url> <subject> <spiffe-id> [--reason T]');
  const response = await withRegistry(context, (client) => callUnary(client, client.putBinding, { binding: { issuer, subject, spiffeId }, reason: context.flags.reason ?? '' }, { target: 'attestation' }));
  context.out.table([{ issuer, subject, workload: spiffeId, replaced: response.replacedSpiffeId }]);
  context.out.document(response);
}

/** `mayfly bindings remove <issuer> <subject>`. */
export async function bindingsRemove(context: CommandContext): Promise<void> {
  const [issuer, subject] = context.args;
  if (!issuer || !subject) throw new Error('usage: mayfly bindings remove <issuer-url> <subject> [--reason T]');
  await withRegistry(context, (client) => callUnary(client, client.removeBinding, { issuer, subject, reason: context.flags.reason ?? '' }, { target: 'attestation' }));
  context.out.table([{ issuer, subject, binding: 'removed' }]);
  context.out.document({ issuer, subject, removed: true });
}

/** `mayfly bindings list [--workload W]`. */
export async function bindingsList(context: CommandContext): Promise<void> {
  const response = await withRegistry(context, (client) => callUnary(client, client.listBindings, { spiffeId: context.flags.workload ?? '' }, { target: 'attestation' }));
  context.out.table(response.bindings.map((binding) => ({ issuer: binding.issuer, subject: binding.subject, workload: binding.spiffeId })));
  context.out.document(response.bindings);
}
