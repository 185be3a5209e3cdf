import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '@mayfly/audit-trail';
import { findGrant, type GrantRecord } from '@mayfly/db';
import { auditEvent } from '@mayfly/model';
import { AuditEvent } from '@mayfly/proto';
import { PostgresGrantStore } from '../../services/issuance/src/adapters/postgres-grant-store.js';
import { scratchDatabase, scratchGrant, type ScratchDatabase } from '../support/scratch-database.js';

/**
 * Group commit of grants against real PostgreSQL (issue 24, point 3): grants that arrive together
 * share one transaction (rows committed together share an xmin), each caller hears back only
 * once its grant is visible to another connection, a grant whose idempotency key is taken is
 * told so while its batch-mates commit with their audit outbox rows, and a grant alone commits
 * in a transaction of its own.
 */
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } } as never;
let scratch: ScratchDatabase;
let observer: pg.Client;

const grantWith = (idempotencyKey?: string): GrantRecord =>
  scratchGrant('svc:orders', idempotencyKey ? { idempotency_key: idempotencyKey, request_digest: 'digest', token_reissue: 'reissue' } : {});

const eventsOf = (grant: GrantRecord): AuditEvent[] =>
  ['grant.requested', 'grant.issued'].map((kind) => auditEvent('issuance', { kind, actor: grant.spiffe_id, grantId: grant.id, outcome: 'success' }));

async function visible(grantId: string): Promise<boolean> {
  const { rowCount } = await observer.query('SELECT 1 FROM grants WHERE id = $1', [grantId]);
  return rowCount === 1;
}

/** How many transactions committed these grants (rows written by one transaction share its xmin). */
async function transactionsHolding(grantIds: readonly string[]): Promise<number> {
  const { rows } = await observer.query<{ n: string }>('SELECT count(DISTINCT xmin::text) AS n FROM grants WHERE id = ANY($1::uuid[])', [grantIds]);
  return Number(rows[0]!.n);
}

function storeWith(maxInFlight: number): PostgresGrantStore {
  const audit = new AuditTrail({ db: scratch.db, owner: 'issuance', auditAddress: 'unused', log: silent, sink: { record: async () => undefined, close: () => undefined } });
  return new PostgresGrantStore(scratch.db, audit, { maxBatch: 64, maxInFlight });
}

beforeAll(async () => {
  scratch = await scratchDatabase('mayfly_group_commit', ['svc:orders']);
  observer = await scratch.connect();
}, 60_000);

afterAll(async () => {
  await observer?.end();
  await scratch?.drop();
});

describe('grant group commit', () => {
  it('commits concurrent grants in shared transactions, answers each after its commit, and keeps idempotency keys', async () => {
    const store = storeWith(1);
    const keyed = [grantWith('retry-1'), grantWith('retry-1'), grantWith('retry-2'), grantWith('retry-2')];
    const plain = Array.from({ length: 36 }, () => grantWith());
    const grants = [plain[0]!, ...keyed, ...plain.slice(1)];
    const outcomes = await Promise.all(
      grants.map(async (grant) => {
        const outcome = await store.commitGrant(grant, eventsOf(grant));
        // Answered only after the commit: another connection sees the grant (or, refused, never will).
        return { grant, outcome, seen: await visible(grant.id) };
      }),
    );

    for (const { outcome, seen } of outcomes) expect(seen).toBe(outcome === 'committed');
    const taken = outcomes.filter((o) => o.outcome === 'idempotency-key-taken').map((o) => o.grant);
    expect(taken.map((grant) => grant.idempotency_key).sort()).toEqual(['retry-1', 'retry-2']);
    const committed = outcomes.filter((o) => o.outcome === 'committed').map((o) => o.grant.id);
    expect(committed).toHaveLength(38);

    // 38 grants in far fewer commits: the first alone, the rest together, split only around the two taken keys.
    expect(await transactionsHolding(committed)).toBeLessThanOrEqual(10);

    // Every committed grant has its two audit rows; the refused ones left none behind.
    const { rows: pending } = await observer.query<{ n: string }>("SELECT count(*) AS n FROM audit_outbox WHERE owner = 'issuance'");
    expect(Number(pending[0]!.n)).toBe(38 * 2);
  });

  it('commits grants that arrive while a commit is in flight together, in one transaction', async () => {
    const store = storeWith(1);
    const grants = Array.from({ length: 20 }, () => grantWith());
    const outcomes = await Promise.all(grants.map((grant) => store.commitGrant(grant, eventsOf(grant))));
    expect(outcomes.every((outcome) => outcome === 'committed')).toBe(true);
    expect(await transactionsHolding(grants.map((grant) => grant.id))).toBe(2); // the first alone, 19 together
  });

  it('commits a grant that arrives alone in a transaction of its own, at once', async () => {
    const store = storeWith(2);
    const before = await observer.query<{ n: string }>('SELECT count(*) AS n FROM grants');
    const grant = grantWith();
    expect(await store.commitGrant(grant, eventsOf(grant))).toBe('committed');
    expect(await visible(grant.id)).toBe(true);
    const { rows } = await observer.query<{ n: string }>('SELECT count(*) AS n FROM grants WHERE xmin = (SELECT xmin FROM grants WHERE id = $1)', [grant.id]);
    expect(Number(rows[0]!.n)).toBe(1);
    expect(Number((await observer.query<{ n: string }>('SELECT count(*) AS n FROM grants')).rows[0]!.n)).toBe(Number(before.rows[0]!.n) + 1);
  });

  it('stores every field of every grant in a batch as given, and its outbox entries in the order they happened', async () => {
    const store = storeWith(1);
    const parent = grantWith();
    await store.commitGrant(parent, eventsOf(parent));
    const deadline = new Date(Date.now() + 60_000);
    const unusual: GrantRecord = {
      ...grantWith('keyed-round-trip'),
      task_reference: 'ticket "42" — ünïcode, a backslash \\ and a comma,',
      task_deadline: deadline,
      actions: ['read', 'write'],
      policy_ids: ['policy one', 'policy,two'],
      heartbeat_interval_seconds: 15,
      single_use: true,
      parent_grant_id: parent.id,
      ancestor_grant_ids: [parent.id],
      delegators: ['spiffe://example.org/ci/lead'],
      break_glass: true,
      review_groups: ['sre', 'security'],
    };
    const plain = Array.from({ length: 5 }, () => grantWith());
    const batch = [plain[0]!, unusual, ...plain.slice(1)].map((grant) => ({ grant, events: eventsOf(grant) }));
    const outcomes = await Promise.all(batch.map(({ grant, events }) => store.commitGrant(grant, events)));
    expect(outcomes.every((outcome) => outcome === 'committed')).toBe(true);
    expect(await transactionsHolding(batch.slice(1).map(({ grant }) => grant.id))).toBe(1);

    for (const { grant } of batch) {
      const { created_at, reviewed_at, reviewed_by, review, ...stored } = (await findGrant(scratch.db, grant.id))!;
      expect(stored).toEqual(grant);
      expect([reviewed_at, reviewed_by, review]).toEqual([null, null, null]);
      expect(created_at).toBeInstanceOf(Date);
    }
    const events = batch.flatMap((item) => item.events);
    const { rows } = await observer.query<{ payload: Buffer }>(
      "SELECT payload FROM audit_outbox WHERE owner = 'issuance' AND id = ANY($1::uuid[]) ORDER BY position",
      [events.map((event) => event.id)],
    );
    expect(rows.map((row) => AuditEvent.decode(row.payload))).toEqual(events);
  });

  it('a grant the database refuses for its own row fails alone; the rest of its batch commits', async () => {
    const store = storeWith(1);
    const first = grantWith();
    const good = Array.from({ length: 6 }, () => grantWith());
    // A grant of a workload that is not registered breaks the foreign key: its row is at fault.
    const orphan = { ...grantWith(), spiffe_id: 'spiffe://example.org/nobody/registered' };
    const pendingFirst = store.commitGrant(first, eventsOf(first));
    const results = await Promise.allSettled([...good.slice(0, 3), orphan, ...good.slice(3)].map((grant) => store.commitGrant(grant, eventsOf(grant))));
    await pendingFirst;
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ code: '23503' });
    for (const grant of good) expect(await visible(grant.id)).toBe(true);
    expect(await visible(orphan.id)).toBe(false);
  });
});
