import { sql, type Kysely } from 'kysely';

/**
 * The grant-ended notification (026) only for grants on a registered resource — the only grants
 * that can carry a login to destroy (a resource is registered before any login is made on it,
 * and cannot be removed while grants on it are live). Every other grant's end said nothing
 * anyone acted on, and cost a NOTIFY (which serialises commits on PostgreSQL's notification
 * queue) plus, in issuance, a registry read per ended grant: measured as one SELECT per grant
 * in the bench's session phase (issue 24).
 *
 * The function runs as its owner (SECURITY DEFINER, its search path fixed): the services that end
 * grants (revocation, issuance) may not read the resource registry themselves — revocation's role
 * has no grant on it, and needs none to learn whether a resource exists.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION notify_grant_ended() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path FROM CURRENT AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM resources WHERE name = NEW.resource) THEN
        PERFORM pg_notify('mayfly_grant_ended', NEW.id::text || ' ' || NEW.resource);
      END IF;
      RETURN NULL;
    END $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // As 026 made it: replacing a function sets every property the command does not name to its default.
  await sql`
    CREATE OR REPLACE FUNCTION notify_grant_ended() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('mayfly_grant_ended', NEW.id::text || ' ' || NEW.resource);
      RETURN NULL;
    END $$`.execute(db);
}
