import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary } from '@mayfly/grpc';
import { ListEventsRequest } from '@mayfly/proto';
import { DEV, PROD, RESOURCE, eventually, refusal, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 9, point 9: the audit log can be queried and exported: ListEvents filters (time range,
// workload, grant, task, kind) with cursor paging, and `mayfly audit search|tail|export`.

const run = promisify(execFile);
const CLI = join(process.cwd(), 'libs/cli/dist/main.js');
let t: TestMesh;
let firstGrant = '';
let startedAt: Date;

beforeAll(async () => {
  t = await startTestMesh('audit_query');
  startedAt = new Date(Date.now() - 1_000);
  for (let n = 0; n < 6; n++) {
    const grant = await t.client(n % 2 === 0 ? DEV.subject : PROD.subject).acquire({ task: { id: `query-${n}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
    if (n === 0) firstGrant = grant.grant.id;
    await grant.release();
  }
  await eventually(async () => (await t.db.selectFrom('audit_outbox').select('id').where('delivered_at', 'is', null).execute()).length === 0, 10_000, 100);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const list = (request: Partial<ListEventsRequest>) => callUnary(t.audit, t.audit.listEvents, ListEventsRequest.fromPartial(request));
const cli = async (...args: string[]) => (await run(process.execPath, [CLI, 'audit', ...args], { env: process.env })).stdout;

describe('19 audit query and export', () => {
  it('pages through the whole log with a cursor, either way, and filters by workload, kind, grant, task and time', async () => {
    const all = await t.db.selectFrom('audit_events').select('sequence').orderBy('sequence').execute();
    const paged: number[] = [];
    let pageToken = '';
    do {
      const page = await list({ limit: 7, pageToken });
      paged.push(...page.events.map((event) => event.sequence));
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(paged).toEqual(all.map((row) => Number(row.sequence)));
    const newest = await list({ limit: 5, newestFirst: true });
    expect(newest.events.map((event) => event.sequence)).toEqual(paged.slice(-5).reverse());
    const older = await list({ limit: 5, newestFirst: true, pageToken: newest.nextPageToken });
    expect(older.events.map((event) => event.sequence)).toEqual(paged.slice(-10, -5).reverse());

    const issuedToProd = await list({ workload: PROD.spiffeId, kinds: ['grant.issued'], limit: 100 });
    expect(issuedToProd.events).toHaveLength(3);
    expect(issuedToProd.events.every((event) => event.kind === 'grant.issued' && event.actor === PROD.spiffeId)).toBe(true);
    expect((await list({ grantId: firstGrant, limit: 100 })).events.map((event) => event.kind)).toContain('grant.completed');
    expect((await list({ taskId: 'query-3', kinds: ['grant.issued'], limit: 100 })).events).toHaveLength(1);
    // In the order they happened (the sequence is the order they were recorded in: each service delivers its own).
    const story = (await list({ taskId: 'query-3', kinds: ['grant.issued', 'grant.completed'], limit: 100 })).events;
    expect([...story].sort((a, b) => a.occurredAt!.getTime() - b.occurredAt!.getTime()).map((event) => event.kind)).toEqual(['grant.issued', 'grant.completed']);
    expect((await list({ since: new Date(Date.now() + 60_000), limit: 100 })).events).toEqual([]);
    expect((await list({ since: startedAt, until: new Date(Date.now() + 1_000), kinds: ['grant.issued'], limit: 100 })).events).toHaveLength(6);
    expect((await list({ afterSequence: paged.at(-2)!, limit: 100 })).events.map((event) => event.sequence)).toEqual([paged.at(-1)]);
  });

  it('refuses a forged cursor, and one used with the other order', async () => {
    const forged = await refusal(list({ pageToken: 'made-up' }));
    expect([forged.code, forged.field]).toEqual(['ERR_INVALID_ARGUMENT', 'page_token']);
    const page = await list({ limit: 2 });
    const otherOrder = await refusal(list({ limit: 2, pageToken: page.nextPageToken, newestFirst: true }));
    expect([otherOrder.code, otherOrder.field]).toEqual(['ERR_INVALID_ARGUMENT', 'page_token']);
  });

  it('mayfly audit search, export (JSON lines) and tail, with the same filters', async () => {
    const searched = JSON.parse(await cli('search', '--workload', DEV.spiffeId, '--kind', 'grant.issued,grant.completed', '--json')) as { events: { kind: string }[] };
    expect(searched.events).toHaveLength(6);
    expect(await cli('search', '--kind', 'grant.issued', '--limit', '2')).toMatch(/SEQUENCE +OCCURRED +KIND/);

    const out = join(mkdtempSync(join(tmpdir(), 'audit-export-')), 'events.jsonl');
    await cli('export', '--since', '10m', '--out', out);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { sequence: number; kind: string; occurredAt: string });
    const stored = await t.db.selectFrom('audit_events').select('sequence').where('occurred_at', '>=', new Date(Date.now() - 600_000)).execute();
    expect(lines.map((line) => line.sequence)).toEqual(stored.map((row) => Number(row.sequence)));
    expect(lines[0]).toMatchObject({ kind: expect.any(String), occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    // tail --follow prints what is appended after it started.
    const follower = spawn(process.execPath, [CLI, 'audit', 'tail', '--limit', '1', '--follow', '--json'], { env: process.env });
    let printed = '';
    follower.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    try {
      await eventually(async () => printed.split('\n').filter(Boolean).length >= 1, 10_000, 100);
      const grant = await t.client(DEV.subject).acquire({ task: { id: 'followed', kind: 'ci-job', reference: 'JOB-9', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
      await eventually(async () => printed.includes(grant.grant.id), 10_000, 100);
    } finally {
      follower.kill('SIGTERM');
    }
  }, 60_000);
});
