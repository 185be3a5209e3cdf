import { sql, type Kysely } from 'kysely';

/**
 * Every way a grant ends — revoked (by grant, token, task, workload, a parent in its chain),
 * completed, expired, its heartbeat missed, its single use consumed — is an UPDATE of its status.
 * A trigger says so on one channel, with the grant id and its resource, so that the login a grant
 * carries is destroyed within milliseconds of the end, whichever service ended it (issue 22).
 * A notification can be missed (the listener was away): the login reconciler catches those.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION notify_grant_ended() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('mayfly_grant_ended', NEW.id::text || ' ' || NEW.resource);
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER grants_ended_notify AFTER UPDATE OF status ON grants
    FOR EACH ROW
    WHEN (OLD.status IN ('active', 'pending_approval') AND NEW.status NOT IN ('active', 'pending_approval'))
    EXECUTE FUNCTION notify_grant_ended()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER grants_ended_notify ON grants`.execute(db);
  await sql`DROP FUNCTION notify_grant_ended()`.execute(db);
}
