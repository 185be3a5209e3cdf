import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary } from '@mayfly/grpc';
import { ListEventsRequest, Verdict } from '@mayfly/proto';
import { DEV, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 9, points 5 and 10: edges report what was used (grant, resource, action, count, first and
// last use) to the audit service in batches, off the verification path; a usage review compares
// a workload's ceiling, what it was granted and what it used.

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('usage', { env: { MAYFLY_EDGE_USAGE_REPORT_MS: '200' } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const verify = (token: string, action: string) =>
  callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action, peerCertificate: Buffer.alloc(0) }, { target: 'edge' });

describe('20 usage', () => {
  it('the edge reports each used grant once per period with its count, first and last use; refused uses are not usage', async () => {
    const grant = await t.client(DEV.subject).acquire({ task: { id: `usage-${Date.now()}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined }, resource: RESOURCE, actions: ['read', 'write'] });
    for (let i = 0; i < 5; i++) expect((await verify(grant.accessToken, 'read')).verdict).toBe(Verdict.VERDICT_ACCEPTED);
    expect((await verify(grant.accessToken, 'delete')).verdict).toBe(Verdict.VERDICT_REJECTED);
    const used = async () =>
      (await callUnary(t.audit, t.audit.listEvents, ListEventsRequest.fromPartial({ grantId: grant.grant.id, kinds: ['grant.used'], limit: 100 }))).events;
    await eventually(async () => (await used()).length > 0, 10_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 500)); // further report periods add nothing
    const events = await used();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: DEV.spiffeId, source: 'edge-verifier', grantId: grant.grant.id });
    expect(events[0]!.detail).toMatchObject({ resource: RESOURCE, action: 'read', count: 5, edge: 'spiffe://mayfly.local/mayfly/edge-verifier' });
    expect(Date.parse(events[0]!.detail!['firstUse'] as string)).toBeLessThanOrEqual(Date.parse(events[0]!.detail!['lastUse'] as string));
  });
});
