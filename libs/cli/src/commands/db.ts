import { DATABASE_URL, EnvReader } from '@mayfly/config';
import { DATABASE_SERVICES, DEFAULT_ROLE_PREFIX, appliedMigrations, createDatabase, migrateToLatest, redactUrl, serviceRoleName, type DatabaseService } from '@mayfly/db';
import type { CommandContext } from '../command.js';

/** The owner's connection: --database-url, else DATABASE_URL, else the local default. */
function ownerUrl(context: CommandContext): string {
  return context.flags.databaseUrl ?? new EnvReader(process.env, 'mayfly CLI').read(DATABASE_URL);
}

/** Passwords for the service roles from MAYFLY_DB_PASSWORD_<SERVICE>, where set. */
function passwordsFromEnv(): Partial<Record<DatabaseService, string>> {
  const passwords: Partial<Record<DatabaseService, string>> = {};
  for (const service of DATABASE_SERVICES) {
    const value = process.env[`MAYFLY_DB_PASSWORD_${service.toUpperCase()}`];
    if (value) passwords[service] = value;
  }
  return passwords;
}

/**
 * `mayfly db migrate`: brings the schema up to date and provisions one least-privilege login
 * role per service. Run it as the database owner before starting (or upgrading) the services.
 */
export async function migrate(context: CommandContext): Promise<void> {
  const url = ownerUrl(context);
  const prefix = context.flags.rolePrefix ?? DEFAULT_ROLE_PREFIX;
  const db = createDatabase({ url, maxConnections: 1, applicationName: 'mayfly-migrate' });
  try {
    context.out.say(`migrating ${redactUrl(url)}`);
    const passwords = passwordsFromEnv();
    const { newer } = await migrateToLatest(db, url, context.flags.skipRoles ? false : { prefix, passwords });
    if (newer.length > 0) context.out.say(`the database is ahead of this build (a newer release applied ${newer.join(', ')}): nothing to migrate; this build runs on it, because migrations only add`);
    const migrations = await appliedMigrations(db);
    const roles = context.flags.skipRoles
      ? []
      : DATABASE_SERVICES.map((service) => ({ service, role: serviceRoleName(prefix, service), password: passwords[service] ? 'set' : 'unchanged' }));
    context.out.table(migrations.map((m) => ({ migration: m.name, applied: m.appliedAt?.toISOString() ?? 'no' })));
    if (roles.length > 0) {
      context.out.say('');
      context.out.table(roles);
      context.out.say('\nEach service connects with its own role: give it a DATABASE_URL naming that role.');
    }
    context.out.document({ database: redactUrl(url), migrations, roles });
  } finally {
    await db.destroy();
  }
}

/** `mayfly db status`: which migrations the database has; exit code 1 if any is pending. */
export async function status(context: CommandContext): Promise<void> {
  const url = ownerUrl(context);
  const db = createDatabase({ url, maxConnections: 1, applicationName: 'mayfly-cli' });
  try {
    const migrations = await appliedMigrations(db);
    const pending = migrations.filter((m) => m.appliedAt === undefined).map((m) => m.name);
    context.out.table(migrations.map((m) => ({ migration: m.name, applied: m.appliedAt?.toISOString() ?? 'pending' })));
    context.out.say(pending.length === 0 ? 'schema is current' : `${pending.length} pending: run mayfly db migrate`);
    context.out.document({ database: redactUrl(url), migrations, current: pending.length === 0 });
    if (pending.length > 0) process.exitCode = 1;
  } finally {
    await db.destroy();
  }
}
