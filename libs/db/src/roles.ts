import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * The services that use PostgreSQL. Decision reads and appends versioned policy sets only: it
 * sees no registry, grant or audit table.
 */
export const DATABASE_SERVICES = ['attestation', 'decision', 'issuance', 'revocation', 'audit'] as const;
export type DatabaseService = (typeof DATABASE_SERVICES)[number];

/** A table privilege, optionally limited to columns: 'UPDATE (disabled_at)'. */
type Privilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | `UPDATE (${string})`;

interface ServiceAccess {
  /** Table → what the service may do with it. Nothing else is granted. */
  readonly tables: Readonly<Record<string, readonly Privilege[]>>;
  readonly sequences?: readonly string[];
  /** The audit_outbox rows it may see and write: its own. */
  readonly outboxOwner?: string;
}

/**
 * Least privilege, per service. Only the audit service can read or append the audit log (and
 * nobody can change it: a trigger refuses UPDATE, DELETE and TRUNCATE even to the owner);
 * attestation reads the registry and records evidence uses; issuance writes grants; revocation
 * ends them and records revocations. Each sees only its own audit_outbox rows (row-level
 * security). The tables belong to the role that runs the migrations, which no service uses.
 */
export const SERVICE_ACCESS: Readonly<Record<DatabaseService, ServiceAccess>> = {
  attestation: {
    tables: {
      // Operators manage trusted issuers and bindings through RegistryService.
      trusted_issuers: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
      // Operators register and change workloads, disable them and cut off their SVIDs through
      // attestation (RegistryService, AttestationService); a workload is never deleted.
      workloads: ['SELECT', 'INSERT', 'UPDATE (owner_team, owner_contact, environment, risk_tier, shared, ceiling, disabled_at, svids_not_before, break_glass_allowed)'],
      // To tell an operator which live grants a smaller ceiling no longer covers.
      grants: ['SELECT'],
      workload_bindings: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
      binding_rules: ['SELECT', 'INSERT', 'DELETE'],
      // Join tokens are created, consumed once (used_at) and withdrawn through attestation.
      join_tokens: ['SELECT', 'INSERT', 'UPDATE (used_at)', 'DELETE'],
      // Operators put and remove resources that get dynamic logins (issue 22).
      resources: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
      evidence_uses: ['SELECT', 'INSERT', 'DELETE'],
      svids: ['SELECT', 'INSERT', 'UPDATE (revoked_at, revoke_reason, rotated_at)'],
      audit_outbox: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    },
    sequences: ['audit_outbox_position_seq'],
    outboxOwner: 'attestation',
  },
  decision: {
    // Versioned policy sets: read the active one, append pushes and rollbacks (never change or
    // delete one). Its audit records (policy.pushed, policy.rolled_back) go through its outbox rows.
    tables: {
      policy_sets: ['SELECT', 'INSERT'],
      audit_outbox: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    },
    sequences: ['audit_outbox_position_seq'],
    outboxOwner: 'decision',
  },
  issuance: {
    // Reads the registry and SVID records to accept session certificates.
    // Reads revoked signing keys, to stop publishing and signing with them.
    tables: {
      grants: ['SELECT', 'INSERT', 'UPDATE'],
      grant_tokens: ['SELECT', 'INSERT'],
      // Requests that wait for people, and their answers (approvals are served by issuance).
      approval_requests: ['SELECT', 'INSERT', 'UPDATE'],
      approval_votes: ['SELECT', 'INSERT'],
      workloads: ['SELECT'],
      svids: ['SELECT'],
      revocations: ['SELECT'],
      // Which resources get dynamic logins, and how to reach their admin credential.
      resources: ['SELECT'],
      audit_outbox: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    },
    sequences: ['audit_outbox_position_seq'],
    outboxOwner: 'issuance',
  },
  revocation: {
    // A workload revocation also cuts off the workload's session certificates (svids_not_before).
    tables: {
      grants: ['SELECT', 'UPDATE'],
      grant_tokens: ['SELECT'],
      revocations: ['SELECT', 'INSERT', 'UPDATE'],
      workloads: ['SELECT', 'UPDATE (svids_not_before)'],
      audit_outbox: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    },
    sequences: ['audit_outbox_position_seq'],
    outboxOwner: 'revocation',
  },
  audit: {
    // The chain is written by the database itself (a SECURITY DEFINER trigger on insert); the
    // audit service reads it and signs checkpoints of its head. It reads workloads' ceilings for
    // the usage review.
    tables: { audit_events: ['SELECT', 'INSERT'], audit_chain: ['SELECT'], audit_chain_head: ['SELECT'], audit_checkpoints: ['SELECT', 'INSERT'], workloads: ['SELECT'] },
    sequences: ['audit_events_sequence_seq', 'audit_checkpoints_id_seq'],
  },
};

/** Default prefix of the service roles: mayfly_attestation, mayfly_issuance, ... */
export const DEFAULT_ROLE_PREFIX = 'mayfly_';

export function serviceRoleName(prefix: string, service: DatabaseService): string {
  return `${prefix}${service}`;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export interface ProvisionOptions {
  /** Role names are <prefix><service>. Lower-case letters, digits and "_". */
  readonly prefix?: string;
  /**
   * Passwords to set, by service. A service without one keeps its current password (or none:
   * for certificate or IAM authentication, or a DBA who sets passwords separately).
   */
  readonly passwords?: Partial<Record<DatabaseService, string>>;
}

/**
 * Creates (if missing) one login role per service and grants it exactly what SERVICE_ACCESS
 * lists, revoking anything else. Idempotent: run after every migration, so that new tables are
 * covered. Runs as the owner of the tables (the migration role), which needs CREATEROLE.
 */
export async function provisionServiceRoles(db: Kysely<Database>, options: ProvisionOptions = {}): Promise<string[]> {
  const prefix = options.prefix ?? DEFAULT_ROLE_PREFIX;
  const roles: string[] = [];
  await db.transaction().execute(async (tx) => {
    const database = (await sql<{ name: string }>`SELECT current_database() AS name`.execute(tx)).rows[0]!.name;
    await sql`REVOKE CREATE ON SCHEMA public FROM PUBLIC`.execute(tx);
    await sql`ALTER TABLE audit_outbox ENABLE ROW LEVEL SECURITY`.execute(tx);
    for (const service of DATABASE_SERVICES) {
      const role = serviceRoleName(prefix, service);
      if (!IDENTIFIER.test(role)) throw new Error(`database role name "${role}" must be lower-case letters, digits and _ (at most 63)`);
      roles.push(role);
      const id = sql.id(role);
      await sql`
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${sql.lit(role)}) THEN
            CREATE ROLE ${id} LOGIN;
          END IF;
        END $$`.execute(tx);
      const password = options.passwords?.[service];
      if (password !== undefined) await sql`ALTER ROLE ${id} WITH LOGIN PASSWORD ${sql.lit(password)}`.execute(tx);
      await sql`GRANT CONNECT ON DATABASE ${sql.id(database)} TO ${id}`.execute(tx);
      await sql`GRANT USAGE ON SCHEMA public TO ${id}`.execute(tx);
      // Start from nothing, then grant what the service needs.
      await sql`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${id}`.execute(tx);
      await sql`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${id}`.execute(tx);
      const access = SERVICE_ACCESS[service];
      for (const [table, privileges] of Object.entries(access.tables)) {
        await sql`GRANT ${sql.raw(privileges.join(', '))} ON TABLE ${sql.id(table)} TO ${id}`.execute(tx);
      }
      for (const sequence of access.sequences ?? []) await sql`GRANT USAGE ON SEQUENCE ${sql.id(sequence)} TO ${id}`.execute(tx);
      // Every service checks at start that the schema is current.
      await sql`GRANT SELECT ON TABLE kysely_migration TO ${id}`.execute(tx);
      if (access.outboxOwner) {
        const policy = sql.id(`${role}_own_outbox_rows`);
        await sql`DROP POLICY IF EXISTS ${policy} ON audit_outbox`.execute(tx);
        await sql`CREATE POLICY ${policy} ON audit_outbox TO ${id} USING (owner = ${sql.lit(access.outboxOwner)}) WITH CHECK (owner = ${sql.lit(access.outboxOwner)})`.execute(tx);
      }
    }
  });
  return roles;
}

/** Drops the service roles of `prefix` (tests; a DBA retiring an installation). */
export async function dropServiceRoles(db: Kysely<Database>, prefix: string): Promise<void> {
  for (const service of DATABASE_SERVICES) {
    const role = serviceRoleName(prefix, service);
    const exists = await sql`SELECT 1 FROM pg_roles WHERE rolname = ${role}`.execute(db);
    if (exists.rows.length === 0) continue;
    await sql`DROP OWNED BY ${sql.id(role)}`.execute(db);
    await sql`DROP ROLE ${sql.id(role)}`.execute(db);
  }
}
