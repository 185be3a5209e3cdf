import { sql, type Kysely } from 'kysely';

/**
 * The audit log becomes tamper-evident. Every stored event gets a link in one hash chain, made by
 * the database as the event is inserted (so no writer can skip it): content_hash is SHA-256 over
 * the event's content, chain_hash is SHA-256(previous chain_hash || content_hash). The chain's
 * order is its own `position` (the order appends committed their link; a head row serialises
 * them), which each link maps to the event's sequence. The audit service signs the head at
 * intervals (audit_checkpoints) with a key the database never holds, so even someone who can
 * rewrite both tables cannot make a signed checkpoint agree with an altered history.
 *
 * The content is everything an event says except its sequence — so that two events swapped in
 * place read as reordered, not as two edits: id, times (as epoch seconds, independent of the
 * session's time zone), kind, actor, source, grant, task, outcome and detail (jsonb's canonical
 * text).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE audit_chain (
      position      bigserial PRIMARY KEY,
      sequence      bigint NOT NULL UNIQUE,
      content_hash  bytea NOT NULL,
      chain_hash    bytea NOT NULL
    );
    CREATE TABLE audit_chain_head (
      only_row      boolean PRIMARY KEY DEFAULT true CHECK (only_row),
      position      bigint NOT NULL,
      chain_hash    bytea NOT NULL
    );
    INSERT INTO audit_chain_head VALUES (true, 0, decode(repeat('00', 32), 'hex'));

    CREATE TABLE audit_checkpoints (
      id            bigserial PRIMARY KEY,
      position      bigint NOT NULL,
      chain_hash    bytea NOT NULL,
      signed_at     timestamptz NOT NULL,
      key_id        text NOT NULL,
      public_key    text NOT NULL,
      signature     bytea NOT NULL
    );

    CREATE FUNCTION audit_content_hash(e audit_events) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
      SELECT sha256(convert_to(jsonb_build_array(
        e.id::text, extract(epoch FROM e.occurred_at)::text, extract(epoch FROM e.recorded_at)::text,
        e.kind, e.actor, e.source, e.grant_id::text, e.task_id, e.outcome, e.detail
      )::text, 'UTF8'))
    $$;

    -- Runs as the owner (SECURITY DEFINER): writers need no rights on the chain itself. Once per
    -- statement (a batch of events): one lock and one update of the head per batch.
    CREATE FUNCTION audit_chain_append() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
      link bytea;
      content bytea;
      e audit_events;
      appended boolean := false;
    BEGIN
      SELECT chain_hash INTO link FROM audit_chain_head WHERE only_row FOR UPDATE;
      FOR e IN SELECT * FROM appended_events ORDER BY sequence LOOP
        content := audit_content_hash(e);
        link := sha256(link || content);
        INSERT INTO audit_chain (sequence, content_hash, chain_hash) VALUES (e.sequence, content, link);
        appended := true;
      END LOOP;
      IF appended THEN
        UPDATE audit_chain_head SET position = currval(pg_get_serial_sequence('audit_chain', 'position')), chain_hash = link WHERE only_row;
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER audit_events_chain AFTER INSERT ON audit_events REFERENCING NEW TABLE AS appended_events
      FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_append();

    -- The chain and the checkpoints are as append-only as the log.
    CREATE TRIGGER audit_chain_no_update_delete BEFORE UPDATE OR DELETE ON audit_chain FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
    CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
    CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
    CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
  `.execute(db);
  // Events stored before this migration join the chain in their order. The link is carried in a
  // variable and the head written once: updating the head row per event would leave one dead
  // version per event for every later read to step over (quadratic on a large log).
  await sql`
    DO $$
    DECLARE
      e audit_events;
      link bytea := decode(repeat('00', 32), 'hex');
      content bytea;
      chained bigint := 0;
    BEGIN
      FOR e IN SELECT * FROM audit_events ORDER BY sequence LOOP
        content := audit_content_hash(e);
        link := sha256(link || content);
        INSERT INTO audit_chain (sequence, content_hash, chain_hash) VALUES (e.sequence, content, link);
        chained := chained + 1;
      END LOOP;
      IF chained > 0 THEN
        UPDATE audit_chain_head SET position = currval(pg_get_serial_sequence('audit_chain', 'position')), chain_hash = link WHERE only_row;
      END IF;
    END $$;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER audit_events_chain ON audit_events;
    DROP FUNCTION audit_chain_append();
    DROP FUNCTION audit_content_hash(audit_events);
    DROP TABLE audit_checkpoints;
    DROP TABLE audit_chain_head;
    DROP TABLE audit_chain;
  `.execute(db);
}
