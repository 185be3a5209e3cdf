import { sql } from 'kysely';
import { createDatabase } from '@mayfly/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditVerify as verifyTrail } from '../support/audit-verify.js';
import { DEV, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 9, point 6: the audit trail proves itself. The database chains every record as it is
// appended; the audit service signs the chain's head. `mayfly audit verify` names records edited,
// deleted, inserted or reordered directly in PostgreSQL — and a chain recomputed to hide them
// still disagrees with the signed checkpoints.

let t: TestMesh;

beforeAll(async () => {
  t = await startTestMesh('audit_chain', { env: { MAYFLY_AUDIT_CHECKPOINT_MS: '200' } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const auditVerify = () => verifyTrail(t);

const sequences = async (): Promise<string[]> => (await t.db.selectFrom('audit_events').select('sequence').orderBy('sequence').execute()).map((row) => row.sequence);

describe('18 tamper-evident audit', () => {
  it('an untouched trail verifies, with signed checkpoints over all of it', async () => {
    for (let n = 0; n < 5; n++) {
      const grant = await t.client(DEV.subject).acquire({ task: { id: `chain-${n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
      await grant.release();
    }
    // Every event delivered, and a checkpoint signed over the chain's head.
    await eventually(async () => (await t.db.selectFrom('audit_outbox').select('id').where('delivered_at', 'is', null).execute()).length === 0, 10_000, 100);
    await eventually(async () => {
      const head = await t.db.selectFrom('audit_chain_head').select('position').executeTakeFirstOrThrow();
      const latest = await t.db.selectFrom('audit_checkpoints').select('position').orderBy('id', 'desc').limit(1).executeTakeFirst();
      return head.position !== '0' && latest?.position === head.position;
    }, 10_000, 100);
    const { code, report } = await auditVerify();
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report.events).toBeGreaterThanOrEqual(10); // per grant at least grant.issued and grant.completed
    expect(report.checkpointsChecked).toBeGreaterThan(0);
  });

  it('the audit service cannot change the chain: the database refuses its role', async () => {
    const auditRole = createAuditRoleDb();
    try {
      await expect(sql`UPDATE audit_chain SET chain_hash = chain_hash`.execute(auditRole)).rejects.toThrow(/permission denied/);
      await expect(sql`DELETE FROM audit_checkpoints`.execute(auditRole)).rejects.toThrow(/permission denied/);
    } finally {
      await auditRole.destroy();
    }
  });

  it('names an edited, a deleted, an inserted and a reordered record, tampered with directly in PostgreSQL', async () => {
    await t.mesh.stopService('audit'); // nothing else appends while the tables are opened up
    const all = await sequences();
    const [edited, deleted, swappedA, swappedB] = [all[2]!, all[5]!, all[8]!, all[9]!];
    await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(t.db);
    try {
      await sql`UPDATE audit_events SET detail = detail || '{"justification": "nothing to see"}' WHERE sequence = ${edited}`.execute(t.db);
      await sql`DELETE FROM audit_events WHERE sequence = ${deleted}`.execute(t.db);
      // Swap two records' contents (ids too), each taking the other's place; in SQL, so that
      // times keep their microseconds.
      await t.db.transaction().execute(async (tx) => {
        await sql`CREATE TEMP TABLE swapped ON COMMIT DROP AS SELECT * FROM audit_events WHERE sequence IN (${swappedA}, ${swappedB})`.execute(tx);
        await sql`UPDATE audit_events SET id = gen_random_uuid() WHERE sequence = ${swappedA}`.execute(tx); // ids are unique: move one aside first
        const take = (target: string, source: string) =>
          sql`UPDATE audit_events e SET (id, occurred_at, recorded_at, kind, actor, source, grant_id, task_id, outcome, detail) =
            (SELECT s.id, s.occurred_at, s.recorded_at, s.kind, s.actor, s.source, s.grant_id, s.task_id, s.outcome, s.detail FROM swapped s WHERE s.sequence = ${source})
            WHERE e.sequence = ${target}`.execute(tx);
        await take(swappedB, swappedA);
        await take(swappedA, swappedB);
      });
      const forged = await sql<{ sequence: string }>`
        INSERT INTO audit_events (id, occurred_at, kind, actor, source, task_id, outcome, detail)
        VALUES (gen_random_uuid(), now(), 'grant.approved', 'spiffe://e2e.mayfly.test/nobody', 'issuance', 'forged', 'success', '{}') RETURNING sequence`.execute(t.db);
      const { code, report } = await auditVerify();
      expect(code).toBe(1);
      const found = report.problems.map((problem) => `${problem.kind} ${problem.sequence}`);
      expect(found).toContain(`edited ${edited}`);
      expect(found).toContain(`deleted ${deleted}`);
      expect(found).toContain(`inserted ${forged.rows[0]!.sequence}`);
      expect(found).toContain(`reordered ${swappedA}`);
      expect(found).toContain(`reordered ${swappedB}`);
      expect(report.problems[0]).toMatchObject({ kind: 'edited', sequence: edited }); // the earliest first
    } finally {
      await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(t.db);
    }
  });

  it('a chain recomputed over the tampered trail (by someone who can write every table) still fails the signed checkpoints', async () => {
    await sql`ALTER TABLE audit_chain DISABLE TRIGGER USER`.execute(t.db);
    try {
      await sql`DELETE FROM audit_chain`.execute(t.db);
      await sql`
        DO $$
        DECLARE e audit_events; previous bytea := decode(repeat('00', 32), 'hex'); link bytea;
        BEGIN
          FOR e IN SELECT * FROM audit_events ORDER BY sequence LOOP
            link := sha256(previous || audit_content_hash(e));
            INSERT INTO audit_chain (sequence, content_hash, chain_hash) VALUES (e.sequence, audit_content_hash(e), link);
            previous := link;
          END LOOP;
        END $$`.execute(t.db);
    } finally {
      await sql`ALTER TABLE audit_chain ENABLE TRIGGER USER`.execute(t.db);
    }
    const { code, report } = await auditVerify();
    expect(code).toBe(1);
    expect(report.problems.length).toBeGreaterThan(0);
    // The recomputed chain disagrees with every signature; the signed head's link may be gone
    // altogether (the positions were renumbered), which reads as a truncation.
    const kinds = new Set(report.problems.map((problem) => problem.kind));
    expect(kinds.has('checkpoint-mismatch')).toBe(true);
    expect([...kinds].every((kind) => kind === 'checkpoint-mismatch' || kind === 'truncated' || kind === 'stale')).toBe(true);
  });
});

/** A connection as the audit service's own role (least privilege). */
function createAuditRoleDb() {
  return createDatabase({ url: t.mesh.databaseUrls.audit!, maxConnections: 1 });
}
