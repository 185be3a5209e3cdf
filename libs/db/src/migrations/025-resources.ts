import { sql, type Kysely } from 'kysely';

/**
 * Resources that get dynamic logins (issue 22): a database or a cache, where workloads reach it,
 * the *path* of the file that holds the admin credential (never the credential), and what each
 * action gives a login. Written by attestation (RegistryService), read by issuance.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE resources (
      name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
      kind text NOT NULL CHECK (kind IN ('postgresql', 'mariadb', 'redis')),
      host text NOT NULL CHECK (length(host) BETWEEN 1 AND 253),
      port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
      database text NOT NULL DEFAULT '',
      admin_credential_file text NOT NULL CHECK (length(admin_credential_file) BETWEEN 1 AND 4096),
      actions jsonb NOT NULL,
      connection_limit integer NOT NULL CHECK (connection_limit BETWEEN 1 AND 10000),
      updated_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE resources`.execute(db);
}
