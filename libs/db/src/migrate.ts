import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import pg from 'pg';
import * as initial from './migrations/001-initial.js';
import * as evidenceUses from './migrations/002-evidence-uses.js';
import * as issuerEvidenceRules from './migrations/003-issuer-evidence-rules.js';
import * as revocationStreamSequence from './migrations/004-revocation-stream-sequence.js';
import * as auditDeadLetters from './migrations/005-audit-dead-letters.js';
import * as sessions from './migrations/006-sessions.js';
import * as outboxOrder from './migrations/007-outbox-order.js';
import * as auditChain from './migrations/008-audit-chain.js';
import * as revocationScopes from './migrations/009-revocation-scopes.js';
import * as grantRenewal from './migrations/010-grant-renewal.js';
import * as idempotentGrants from './migrations/011-idempotent-grants.js';
import * as grantHeartbeats from './migrations/012-grant-heartbeats.js';
import * as singleUseGrants from './migrations/013-single-use-grants.js';
import * as grantDelegation from './migrations/014-grant-delegation.js';
import * as approvals from './migrations/015-approvals.js';
import * as attestors from './migrations/016-attestors.js';
import * as policySets from './migrations/017-policy-sets.js';
import * as issuerAudiences from './migrations/018-issuer-audiences.js';
import * as sessionRotation from './migrations/019-session-rotation.js';
import * as peopleBySubject from './migrations/020-people-by-subject.js';
import * as checkpointChain from './migrations/021-checkpoint-chain.js';
import * as approvalRecheck from './migrations/022-approval-recheck.js';
import * as breakGlassControls from './migrations/023-break-glass-controls.js';
import * as issuerAlgorithmsFromPolicy from './migrations/024-issuer-algorithms-from-policy.js';
import * as resources from './migrations/025-resources.js';
import * as grantEndedNotify from './migrations/026-grant-ended-notify.js';
import * as grantEndedNotifyLoginsOnly from './migrations/027-grant-ended-notify-logins-only.js';
import * as pruneDeliveredAudit from './migrations/028-prune-delivered-audit.js';
import * as endedGrantsIndex from './migrations/029-ended-grants-index.js';
import * as grantsNewestFirst from './migrations/030-grants-newest-first.js';
import { MayflyError } from '@mayfly/core';
import { sql } from 'kysely';
import { provisionServiceRoles, type ProvisionOptions } from './roles.js';
import type { Database } from './schema.js';

/** Migrations in order. Add new ones at the end; never edit one that has shipped. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-evidence-uses': evidenceUses,
  '003-issuer-evidence-rules': issuerEvidenceRules,
  '004-revocation-stream-sequence': revocationStreamSequence,
  '005-audit-dead-letters': auditDeadLetters,
  '006-sessions': sessions,
  '007-outbox-order': outboxOrder,
  '008-audit-chain': auditChain,
  '009-revocation-scopes': revocationScopes,
  '010-grant-renewal': grantRenewal,
  '011-idempotent-grants': idempotentGrants,
  '012-grant-heartbeats': grantHeartbeats,
  '013-single-use-grants': singleUseGrants,
  '014-grant-delegation': grantDelegation,
  '015-approvals': approvals,
  '016-attestors': attestors,
  '017-policy-sets': policySets,
  '018-issuer-audiences': issuerAudiences,
  '019-session-rotation': sessionRotation,
  '020-people-by-subject': peopleBySubject,
  '021-checkpoint-chain': checkpointChain,
  '022-approval-recheck': approvalRecheck,
  '023-break-glass-controls': breakGlassControls,
  '024-issuer-algorithms-from-policy': issuerAlgorithmsFromPolicy,
  '025-resources': resources,
  '026-grant-ended-notify': grantEndedNotify,
  '027-grant-ended-notify-logins-only': grantEndedNotifyLoginsOnly,
  '028-prune-delivered-audit': pruneDeliveredAudit,
  '029-ended-grants-index': endedGrantsIndex,
  '030-grants-newest-first': grantsNewestFirst,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** The migrations this build knows, in order. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS);

/** Arbitrary, fixed key for the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 7_246_118_001;

/**
 * Brings the schema to the latest version and, unless `roles` is false, (re)provisions the
 * services' database roles (see roles.ts). This is a deployment step of its own (`mayfly db
 * migrate`), run as the role that owns the tables; services never migrate. An advisory lock
 * makes concurrent runs take turns.
 */
export async function migrateToLatest(db: Kysely<Database>, databaseUrl: string, roles: ProvisionOptions | false = false): Promise<{ newer: string[] }> {
  const lockClient = new pg.Client({ connectionString: databaseUrl });
  await lockClient.connect();
  try {
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    // After a rollback (helm rollback, an older image) the database may be ahead of this build.
    // Migrations only add (deploy/README.md, "Upgrades and rollbacks"), so this build runs on the
    // newer schema: nothing to do here — rather than kysely's "corrupted migrations" refusal.
    const newer = await migrationsNewerThanThisBuild(db);
    if (newer.length > 0) {
      const missing = (await appliedMigrations(db)).filter((m) => m.appliedAt === undefined).map((m) => m.name);
      if (missing.length > 0) {
        throw new MayflyError('ERR_CONFIG', `the database has migrations this build does not know (${newer.join(', ')}) and lacks some it does (${missing.join(', ')}): it was migrated by another line of releases; migrate it with the release that made it`);
      }
    } else {
      const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
      const failed = results?.find((result) => result.status === 'Error');
      if (error || failed) {
        throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
      }
    }
    if (roles !== false) await provisionServiceRoles(db, roles);
    return { newer };
  } finally {
    await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lockClient.end();
  }
}

/** Migrations the database has applied that this build does not know: a newer release made them. */
export async function migrationsNewerThanThisBuild(db: Kysely<Database>): Promise<string[]> {
  try {
    const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
    return rows.rows.map((row) => row.name).filter((name) => !MIGRATION_NAMES.includes(name));
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return []; // a new database
    throw error;
  }
}

/** Which of this build's migrations the database has applied, in order. */
export async function appliedMigrations(db: Kysely<Database>): Promise<{ name: string; appliedAt: Date | undefined }[]> {
  let applied = new Map<string, Date>();
  try {
    const rows = await sql<{ name: string; timestamp: string }>`SELECT name, timestamp FROM kysely_migration`.execute(db);
    applied = new Map(rows.rows.map((row) => [row.name, new Date(row.timestamp)]));
  } catch (error) {
    if ((error as { code?: string }).code !== '42P01') throw error; // no table yet: nothing applied
  }
  return MIGRATION_NAMES.map((name) => ({ name, appliedAt: applied.get(name) }));
}

/**
 * Fails start-up, with what to do, unless every migration this build knows has been applied.
 * Services check; they do not migrate (their roles cannot).
 */
export async function assertSchemaCurrent(db: Kysely<Database>): Promise<void> {
  let missing: string[];
  try {
    missing = (await appliedMigrations(db)).filter((m) => m.appliedAt === undefined).map((m) => m.name);
  } catch (error) {
    throw new MayflyError('ERR_CONFIG', `cannot read the database schema version: ${(error as Error).message}. Run \`mayfly db migrate\` as the database owner first.`, { cause: error });
  }
  if (missing.length > 0) {
    throw new MayflyError('ERR_CONFIG', `the database schema is not current (missing ${missing.join(', ')}): run \`mayfly db migrate\` as the database owner, then start the services`);
  }
}
