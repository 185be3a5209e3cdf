import { DEFAULT_ISSUER_ALGORITHMS } from '@mayfly/core';
import { sql, type Kysely } from 'kysely';
import type { TrustedIssuerInput, WorkloadInput } from '@mayfly/model';
import type { Database, EntitlementRow, GrantRow, IssuerKind, ReplayPolicy, RiskTierName, TrustedIssuerRow, WorkloadRow } from '../schema.js';

export type { TrustedIssuerInput, WorkloadInput };

/** Registers (or replaces) an issuer whose tokens count as workload evidence. */
export async function upsertTrustedIssuer(db: Kysely<Database>, input: TrustedIssuerInput): Promise<void> {
  const values = {
    issuer: input.issuer,
    audiences: input.audiences,
    audience: input.audiences[0] ?? '',
    jwks_uri: input.jwksUri ?? null,
    jwks: input.jwks ? JSON.stringify(input.jwks) : null,
    algorithms: input.algorithms ?? [...DEFAULT_ISSUER_ALGORITHMS],
    require_low_s: input.requireLowS ?? true,
    max_evidence_lifetime_seconds: input.maxEvidenceLifetimeSeconds ?? 86_400,
    kind: input.kind ?? 'oidc',
    replay_policy: input.replayPolicy ?? null,
    trust_domain: input.trustDomain ?? null,
    ca_pem: input.caPem ?? null,
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
/** A registered workload by SPIFFE ID (disabled or not), if any. */
export async function findWorkload(db: Kysely<Database>, spiffeId: string): Promise<WorkloadRow | undefined> {
  return db.selectFrom('workloads').selectAll().where('spiffe_id', '=', spiffeId).executeTakeFirst();
}

/**
 * Registers a new workload. Returns false, writing nothing, if the SPIFFE ID is registered
 * already. `then` runs in the same transaction (its audit record).
 */
export async function createWorkload(db: Kysely<Database>, input: WorkloadInput, then: (tx: Kysely<Database>) => Promise<void>): Promise<WorkloadRow | undefined> {
  return db.transaction().execute(async (tx) => {
    const created = await tx.insertInto('workloads').values(workloadValues(input)).onConflict((oc) => oc.column('spiffe_id').doNothing()).returningAll().executeTakeFirst();
    if (created) await then(tx);
    return created;
  });
}

/**
 * Replaces a registered workload's record (not its enabled state), returning it before and after;
 * undefined if it is not registered. `then` runs in the same transaction, seeing both.
 */
export async function replaceWorkload(
  db: Kysely<Database>,
  input: WorkloadInput,
  then: (tx: Kysely<Database>, before: WorkloadRow, after: WorkloadRow) => Promise<void>,
): Promise<{ before: WorkloadRow; after: WorkloadRow } | undefined> {
  return db.transaction().execute(async (tx) => {
    const before = await tx.selectFrom('workloads').selectAll().where('spiffe_id', '=', input.spiffeId).forUpdate().executeTakeFirst();
    if (!before) return undefined;
    const { spiffe_id: _id, ...values } = workloadValues(input);
    const after = await tx.updateTable('workloads').set(values).where('spiffe_id', '=', input.spiffeId).returningAll().executeTakeFirstOrThrow();
    await then(tx, before, after);
    return { before, after };
  });
}

/** Registered workloads in SPIFFE ID order, optionally under a prefix. */
export async function listWorkloads(db: Kysely<Database>, options: { prefix: string; limit: number }): Promise<WorkloadRow[]> {
  let query = db.selectFrom('workloads').selectAll();
  if (options.prefix) query = query.where(sql<boolean>`starts_with(spiffe_id, ${options.prefix})`);
  return query.orderBy('spiffe_id').limit(options.limit).execute();
}

/** The workload's active grants (it holds them), newest first. */
export async function activeGrantsOf(db: Kysely<Database>, spiffeId: string, limit: number): Promise<GrantRow[]> {
  return db.selectFrom('grants').selectAll().where('spiffe_id', '=', spiffeId).where('status', '=', 'active').orderBy('issued_at', 'desc').limit(limit).execute();
}

function workloadValues(input: WorkloadInput) {
  return {
    spiffe_id: input.spiffeId,
    owner_team: input.ownerTeam,
    owner_contact: input.ownerContact,
    environment: input.environment,
    risk_tier: input.riskTier,
    shared: input.shared ?? false,
    ceiling: JSON.stringify(input.ceiling),
    break_glass_allowed: input.breakGlassAllowed ?? false,
  };
}

export async function upsertWorkload(db: Kysely<Database>, input: WorkloadInput): Promise<void> {
  const values = workloadValues(input);
  await db
    .insertInto('workloads')
    .values(values)
    .onConflict((oc) => oc.column('spiffe_id').doUpdateSet({ ...values }))
    .execute();
}

/** Registers or replaces a trusted issuer, in the caller's transaction; true when it was new. */
export async function putTrustedIssuer(db: Kysely<Database>, input: TrustedIssuerInput): Promise<{ row: TrustedIssuerRow; created: boolean }> {
  const existed = await db.selectFrom('trusted_issuers').select('issuer').where('issuer', '=', input.issuer).forUpdate().executeTakeFirst();
  await upsertTrustedIssuer(db, input);
  const row = await db.selectFrom('trusted_issuers').selectAll().where('issuer', '=', input.issuer).executeTakeFirstOrThrow();
  return { row, created: !existed };
}

export async function listTrustedIssuers(db: Kysely<Database>): Promise<TrustedIssuerRow[]> {
  return db.selectFrom('trusted_issuers').selectAll().orderBy('issuer').execute();
}

/** Stops trusting an issuer (its bindings cascade). Undefined if it was not trusted; else how many bindings went. */
export async function removeTrustedIssuer(db: Kysely<Database>, issuer: string): Promise<number | undefined> {
  const bindings = await db.selectFrom('workload_bindings').select((eb) => eb.fn.countAll<string>().as('count')).where('issuer', '=', issuer).executeTakeFirstOrThrow();
  const removed = await db.deleteFrom('trusted_issuers').where('issuer', '=', issuer).executeTakeFirst();
  return Number(removed.numDeletedRows) === 0 ? undefined : Number(bindings.count);
}

/** Binds (issuer, subject) to a workload, in the caller's transaction; returns the workload it was bound to before, if any. */
export async function putBinding(db: Kysely<Database>, binding: { issuer: string; subject: string; spiffeId: string }): Promise<string | undefined> {
  const before = await db.selectFrom('workload_bindings').select('spiffe_id').where('issuer', '=', binding.issuer).where('subject', '=', binding.subject).forUpdate().executeTakeFirst();
  await bindWorkload(db, binding);
  return before?.spiffe_id;
}

export async function removeBinding(db: Kysely<Database>, issuer: string, subject: string): Promise<boolean> {
  const removed = await db.deleteFrom('workload_bindings').where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
  return Number(removed.numDeletedRows) > 0;
}

export async function listBindings(db: Kysely<Database>, spiffeId: string | undefined): Promise<{ issuer: string; subject: string; spiffe_id: string }[]> {
  let query = db.selectFrom('workload_bindings').select(['issuer', 'subject', 'spiffe_id']);
  if (spiffeId) query = query.where('spiffe_id', '=', spiffeId);
  return query.orderBy('spiffe_id').orderBy('issuer').orderBy('subject').execute();
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

export interface EvidenceUse {
  digest: string;
  issuer: string;
  subject: string;
  expiresAt: Date;
}

/**
 * Records a use of evidence and looks up the workload it is bound to, in one statement. Returns
 * `firstUse: false` when the evidence was used before (a replay). The use is recorded whether or
 * not a workload is bound: evidence that proved nothing must not be retried either.
 */
export async function consumeEvidenceAndFindWorkload(
  db: Kysely<Database>,
  use: EvidenceUse,
): Promise<{ firstUse: boolean; workload: WorkloadRow | undefined }> {
  const result = await sql<WorkloadRow & { first_use: boolean; bound: boolean }>`
    WITH used AS (
      INSERT INTO evidence_uses (digest, issuer, subject, expires_at)
      VALUES (${use.digest}, ${use.issuer}, ${use.subject}, ${use.expiresAt})
      ON CONFLICT (digest) DO NOTHING
      RETURNING 1
    )
    SELECT w.*, EXISTS (SELECT 1 FROM used) AS first_use, (w.spiffe_id IS NOT NULL) AS bound
    FROM (SELECT 1) AS one
    LEFT JOIN workload_bindings b ON b.issuer = ${use.issuer} AND b.subject = ${use.subject}
    LEFT JOIN workloads w ON w.spiffe_id = b.spiffe_id
  `.execute(db);
  const row = result.rows[0];
  if (!row) return { firstUse: false, workload: undefined };
  const { first_use: firstUse, bound, ...workload } = row;
  return { firstUse, workload: bound ? (workload as WorkloadRow) : undefined };
}

/** Forgets evidence uses whose evidence has expired (it can no longer be presented anyway). */
export async function pruneEvidenceUses(db: Kysely<Database>, before: Date): Promise<number> {
  const result = await db.deleteFrom('evidence_uses').where('expires_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
