import type { Kysely } from 'kysely';
import type { Database, EntitlementRow, RiskTierName, TrustedIssuerRow, WorkloadRow } from '../schema.js';

export interface TrustedIssuerInput {
  issuer: string;
  audience: string;
  jwksUri?: string | undefined;
  jwks?: { keys: unknown[] } | undefined;
  algorithms?: string[] | undefined;
}

export interface WorkloadInput {
  spiffeId: string;
  ownerTeam: string;
  ownerContact: string;
  environment: string;
  riskTier: RiskTierName;
  shared?: boolean;
  ceiling: EntitlementRow[];
}

/** Registers (or replaces) an issuer whose tokens count as workload evidence. */
export async function upsertTrustedIssuer(db: Kysely<Database>, input: TrustedIssuerInput): Promise<void> {
  const values = {
    issuer: input.issuer,
    audience: input.audience,
    jwks_uri: input.jwksUri ?? null,
    jwks: input.jwks ? JSON.stringify(input.jwks) : null,
    algorithms: input.algorithms ?? ['RS256', 'ES256', 'EdDSA'],
  };
  await db
    .insertInto('trusted_issuers')
    .values(values)
    .onConflict((oc) => oc.column('issuer').doUpdateSet({ ...values }))
    .execute();
}

export async function findTrustedIssuer(db: Kysely<Database>, issuer: string): Promise<TrustedIssuerRow | undefined> {
  return db.selectFrom('trusted_issuers').selectAll().where('issuer', '=', issuer).executeTakeFirst();
}

/** Registers (or replaces) a workload and its entitlement ceiling. */
export async function upsertWorkload(db: Kysely<Database>, input: WorkloadInput): Promise<void> {
  const values = {
    spiffe_id: input.spiffeId,
    owner_team: input.ownerTeam,
    owner_contact: input.ownerContact,
    environment: input.environment,
    risk_tier: input.riskTier,
    shared: input.shared ?? false,
    ceiling: JSON.stringify(input.ceiling),
  };
  await db
    .insertInto('workloads')
    .values(values)
    .onConflict((oc) => oc.column('spiffe_id').doUpdateSet({ ...values }))
    .execute();
}

/** Maps evidence from `issuer` with subject `subject` to a registered workload. */
export async function bindWorkload(
  db: Kysely<Database>,
  binding: { issuer: string; subject: string; spiffeId: string },
): Promise<void> {
  await db
    .insertInto('workload_bindings')
    .values({ issuer: binding.issuer, subject: binding.subject, spiffe_id: binding.spiffeId })
    .onConflict((oc) => oc.columns(['issuer', 'subject']).doUpdateSet({ spiffe_id: binding.spiffeId }))
    .execute();
}

/** The workload that evidence (issuer, subject) is bound to, if any. */
export async function findBoundWorkload(
  db: Kysely<Database>,
  issuer: string,
  subject: string,
): Promise<WorkloadRow | undefined> {
  return db
    .selectFrom('workload_bindings')
    .innerJoin('workloads', 'workloads.spiffe_id', 'workload_bindings.spiffe_id')
    .selectAll('workloads')
    .where('workload_bindings.issuer', '=', issuer)
    .where('workload_bindings.subject', '=', subject)
    .executeTakeFirst();
}
