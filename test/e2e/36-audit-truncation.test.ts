import { sql } from 'kysely';
import { decodeChainHead } from '@mayfly/audit-trail';
import { connectBus, readAuditHead } from '@mayfly/bus';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditVerify as verifyTrail } from '../support/audit-verify.js';
import { DEV, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 20, point 1 (red team): as the database owner, inside one transaction, three truncations
// of the audit log each verified as "intact". The audit service now keeps the chain's signed
// head outside the database (a JetStream stream only it may publish to), refuses to sign over a
// cut-back chain, and `mayfly audit verify` names each truncation.

let t: TestMesh;

beforeAll(async () => {
  // Checkpoints every 3 s, the head within 50 ms of an append: the head runs ahead of the newest
  // checkpoint, as it does between checkpoints in production.
  t = await startTestMesh('audit_truncation', { env: { MAYFLY_AUDIT_CHECKPOINT_MS: '3000', MAYFLY_AUDIT_HEAD_COALESCE_MS: '50' } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const headStream = () => ({ stream: t.mesh.env['MAYFLY_AUDIT_HEAD_STREAM']!, subject: t.mesh.env['MAYFLY_AUDIT_HEAD_SUBJECT']! });
const auditVerify = (options: { trustedKey?: boolean; nats?: string } = {}) => verifyTrail(t, options);

async function publishedHead() {
  const nats = await connectBus(t.natsUrl, 'e2e-audit-head');
  try {
    const text = await readAuditHead(nats, headStream());
    return text === undefined ? undefined : decodeChainHead(text);
  } finally {
    await nats.close();
  }
}

const dbHead = async () => (await t.db.selectFrom('audit_chain_head').select(['position']).executeTakeFirstOrThrow()).position;
const newestCheckpoint = async () => (await t.db.selectFrom('audit_checkpoints').select('position').orderBy('id', 'desc').limit(1).executeTakeFirst())?.position ?? '0';

async function someGrants(n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const grant = await t.client(DEV.subject).acquire({ task: { id: `${tag}-${i}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-36', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
    await grant.release();
  }
  await eventually(async () => (await t.db.selectFrom('audit_outbox').select('id').where('delivered_at', 'is', null).execute()).length === 0, 10_000, 50);
}

/** As the database owner, in one transaction: the chain's records after `position` gone, the head moved back to it. */
async function truncateTo(position: string, options: { checkpointsAfter?: string } = {}): Promise<void> {
  await t.db.transaction().execute(async (tx) => {
    await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(tx);
    await sql`ALTER TABLE audit_chain DISABLE TRIGGER USER`.execute(tx);
    await sql`ALTER TABLE audit_checkpoints DISABLE TRIGGER USER`.execute(tx);
    await sql`DELETE FROM audit_events WHERE sequence IN (SELECT sequence FROM audit_chain WHERE position > ${position})`.execute(tx);
    await sql`DELETE FROM audit_chain WHERE position > ${position}`.execute(tx);
    if (options.checkpointsAfter !== undefined) await sql`DELETE FROM audit_checkpoints WHERE position > ${options.checkpointsAfter}`.execute(tx);
    await sql`UPDATE audit_chain_head SET position = ${position}, chain_hash = COALESCE((SELECT chain_hash FROM audit_chain WHERE position = ${position}), decode(repeat('00', 32), 'hex'))`.execute(tx);
    await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(tx);
    await sql`ALTER TABLE audit_chain ENABLE TRIGGER USER`.execute(tx);
    await sql`ALTER TABLE audit_checkpoints ENABLE TRIGGER USER`.execute(tx);
  });
}

/**
 * The trail as it is, kept aside (as the database owner), so that each truncation below starts
 * from the same untouched trail: restore() puts every row back as it was.
 */
let saved = false;
async function saveTrail(): Promise<void> {
  saved = true;
  await sql`CREATE TABLE e2e_saved_events AS SELECT * FROM audit_events`.execute(t.db);
  await sql`CREATE TABLE e2e_saved_chain AS SELECT * FROM audit_chain`.execute(t.db);
  await sql`CREATE TABLE e2e_saved_checkpoints AS SELECT * FROM audit_checkpoints`.execute(t.db);
  await sql`CREATE TABLE e2e_saved_head AS SELECT * FROM audit_chain_head`.execute(t.db);
}

async function restoreTrail(): Promise<void> {
  saved = false;
  await t.db.transaction().execute(async (tx) => {
    for (const table of ['audit_events', 'audit_chain', 'audit_checkpoints']) await sql.raw(`ALTER TABLE ${table} DISABLE TRIGGER USER`).execute(tx);
    await sql`DELETE FROM audit_events`.execute(tx);
    await sql`DELETE FROM audit_chain`.execute(tx);
    await sql`DELETE FROM audit_checkpoints`.execute(tx);
    await sql`INSERT INTO audit_events SELECT * FROM e2e_saved_events`.execute(tx);
    await sql`INSERT INTO audit_chain SELECT * FROM e2e_saved_chain`.execute(tx);
    await sql`INSERT INTO audit_checkpoints SELECT * FROM e2e_saved_checkpoints`.execute(tx);
    await sql`UPDATE audit_chain_head SET position = s.position, chain_hash = s.chain_hash FROM e2e_saved_head s`.execute(tx);
    for (const table of ['audit_events', 'audit_chain', 'audit_checkpoints']) await sql.raw(`ALTER TABLE ${table} ENABLE TRIGGER USER`).execute(tx);
    for (const table of ['e2e_saved_events', 'e2e_saved_chain', 'e2e_saved_checkpoints', 'e2e_saved_head']) await sql.raw(`DROP TABLE ${table}`).execute(tx);
  });
  // The audit service signs again once the chain extends what it published.
  await eventually(async () => (await auditVerify()).code === 0, 15_000, 250);
}

// A case that failed midway leaves the trail cut: put it back, so the next case starts whole.
afterEach(async () => {
  if (saved) await restoreTrail();
}, 30_000);

describe('36 a truncated audit log does not verify', () => {
  it('an untouched trail is intact and proven complete against the external head', async () => {
    await someGrants(4, 'base');
    await eventually(async () => (await publishedHead())?.position === (await dbHead()), 10_000, 50);
    const { code, report } = await auditVerify();
    expect(report.problems).toEqual([]);
    expect(report.completeness.proven).toBe(true);
    expect(code).toBe(0);
  });

  it('verifying while events are being appended finds no problem: it reads one consistent snapshot', async () => {
    // The container test saw "inserted: event … was never appended through the log" on a live
    // stack: links were read, then events, and appends in between looked like insertions.
    let appending = true;
    const load = (async () => {
      for (let i = 0; appending; i++) {
        const grant = await t.client(DEV.subject).acquire({ task: { id: `live-${i}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-36', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
        await grant.release();
      }
    })();
    try {
      for (let round = 0; round < 5; round++) {
        const { report } = await auditVerify();
        expect(report.problems).toEqual([]);
      }
    } finally {
      appending = false;
      await load;
    }
  });

  it('without the external record, or without a trusted key, it says it cannot prove completeness (exit 2), never "intact"', async () => {
    const noRecord = await auditVerify({ nats: 'nats://127.0.0.1:1' });
    expect(noRecord.code).toBe(2);
    expect(noRecord.report.intact).toBe(false);
    expect(noRecord.report.completeness.reason).toMatch(/no external record/);
    const noKey = await auditVerify({ trustedKey: false });
    expect(noKey.code).toBe(2);
    expect(noKey.report.completeness.reason).toMatch(/no trusted checkpoint key/);
  });

  it('1: the events after the newest checkpoint deleted with their links and the head moved back → truncated', async () => {
    // Events the external head covers and no checkpoint does yet.
    let checkpoint = '0';
    for (let attempt = 0; attempt < 5; attempt++) {
      await eventually(async () => (await newestCheckpoint()) === (await dbHead()), 10_000, 50);
      checkpoint = await newestCheckpoint();
      await someGrants(2, `case1-${attempt}`);
      await eventually(async () => (await publishedHead())?.position === (await dbHead()), 10_000, 20);
      if ((await newestCheckpoint()) === checkpoint) break;
    }
    const signed = (await publishedHead())!.position;
    expect(BigInt(signed)).toBeGreaterThan(BigInt(checkpoint));
    await saveTrail();
    // Any checkpoint the audit service signed since the loop looked (a busy machine) goes too:
    // what is cut is exactly what no remaining checkpoint covers.
    await truncateTo(checkpoint, { checkpointsAfter: checkpoint });
    const { code, report } = await auditVerify();
    expect(code).toBe(1);
    expect(report.problems.map((problem) => problem.kind)).toContain('truncated');
    expect(report.problems.find((problem) => problem.kind === 'truncated')!.detail).toMatch(new RegExp(`the log ends at position ${checkpoint}, but the audit service signed position ${signed}`));
    // The audit service sees it too, and signs nothing over the cut-back chain — not even after
    // more is appended to it.
    await someGrants(1, 'after-cut');
    await eventually(async () => t.logLines.some((line) => line.includes('AUDIT LOG TRUNCATED OR REWRITTEN')), 10_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 3_500)); // a checkpoint interval
    expect((await publishedHead())!.position).toBe(signed);
    expect(await newestCheckpoint()).toBe(checkpoint);
    await restoreTrail();
  });

  it('2: the newest signed checkpoint deleted with the events after the one before → truncated, checkpoint missing', async () => {
    await someGrants(2, 'case2');
    await eventually(async () => (await newestCheckpoint()) === (await dbHead()), 10_000, 50);
    const [, before] = await t.db.selectFrom('audit_checkpoints').select('position').orderBy('id', 'desc').limit(2).execute();
    await saveTrail();
    await truncateTo(before!.position, { checkpointsAfter: before!.position });
    const { code, report } = await auditVerify();
    expect(code).toBe(1);
    const kinds = new Set(report.problems.map((problem) => problem.kind));
    expect(kinds.has('truncated')).toBe(true);
    expect(kinds.has('checkpoint-missing')).toBe(true);
    await restoreTrail();
  });

  it('3: every event, link and checkpoint deleted and the head reset → truncated, not "0 events … intact"', async () => {
    await truncateTo('0', { checkpointsAfter: '0' });
    const { code, report } = await auditVerify();
    expect(report.events).toBe(0);
    expect(code).toBe(1);
    expect(report.intact).toBe(false);
    expect(report.problems.find((problem) => problem.kind === 'truncated')!.detail).toMatch(/the log ends at position 0, but the audit service signed position \d+/);
  });
});
