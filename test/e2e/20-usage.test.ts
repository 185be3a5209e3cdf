import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary } from '@mayfly/grpc';
import { ListEventsRequest, UsageReportRequest, Verdict } from '@mayfly/proto';
import { AGENT, DEV, PROD, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 9, points 5 and 10: edges report what was used (grant, resource, action, count, first and
// last use) to the audit service in batches, off the verification path; a usage review compares
// a workload's ceiling, what it was granted and what it used.

const run = promisify(execFile);
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
  it('the edge reports each used grant per period with its count, first and last use; refused uses are not usage', async () => {
    const grant = await t.client(DEV.subject).acquire({ task: { id: `usage-${Date.now()}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined }, resource: RESOURCE, actions: ['read', 'write'] });
    for (let i = 0; i < 5; i++) expect((await verify(grant.accessToken, 'read')).verdict).toBe(Verdict.VERDICT_ACCEPTED);
    expect((await verify(grant.accessToken, 'delete')).verdict).toBe(Verdict.VERDICT_REJECTED);
    const used = async () =>
      (await callUnary(t.audit, t.audit.listEvents, ListEventsRequest.fromPartial({ grantId: grant.grant.id, kinds: ['grant.used'], limit: 100 }))).events;
    // The five uses may fall into one report period or two; together they count five, and
    // further periods add nothing.
    const counted = async () => (await used()).reduce((sum, event) => sum + Number(event.detail!['count']), 0);
    await eventually(async () => (await counted()) === 5, 10_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await counted()).toBe(5);
    for (const event of await used()) {
      expect(event).toMatchObject({ actor: DEV.spiffeId, source: 'edge-verifier', grantId: grant.grant.id });
      expect(event.detail).toMatchObject({ resource: RESOURCE, action: 'read', edge: 'spiffe://mayfly.local/mayfly/edge-verifier' });
      expect(Date.parse(event.detail!['firstUse'] as string)).toBeLessThanOrEqual(Date.parse(event.detail!['lastUse'] as string));
    }
  });

  it('the usage review: ceiling, granted and used per workload, and a smaller ceiling proposed (RPC and mayfly usage report)', async () => {
    // DEV's ceiling is read and write; it was granted both above, and used only read.
    const response = await callUnary(t.audit, t.audit.usageReport, UsageReportRequest.fromPartial({ workload: DEV.spiffeId }));
    expect(response.workloads).toHaveLength(1);
    const dev = response.workloads[0]!;
    expect(dev.ceiling).toEqual([{ resource: RESOURCE, actions: ['read', 'write'] }]);
    expect(dev.granted).toEqual([{ resource: RESOURCE, actions: ['read', 'write'] }]);
    expect(dev.used).toEqual([{ resource: RESOURCE, actions: ['read'] }]);
    expect(dev.proposedCeiling).toEqual([{ resource: RESOURCE, actions: ['read'] }]);
    expect(dev.uses).toBe(5);
    // Every registered workload when none is named; never-used ones get an empty proposal.
    const all = await callUnary(t.audit, t.audit.usageReport, UsageReportRequest.fromPartial({}));
    expect(all.workloads.map((workload) => workload.spiffeId)).toEqual(expect.arrayContaining([DEV.spiffeId, PROD.spiffeId, AGENT.spiffeId]));
    expect(all.workloads.find((workload) => workload.spiffeId === PROD.spiffeId)!.proposedCeiling).toEqual([]);

    const { stdout } = await run(process.execPath, [join(process.cwd(), 'libs/cli/dist/main.js'), 'usage', 'report', '--workload', DEV.spiffeId, '--since', '1h'], { env: process.env });
    expect(stdout).toMatch(/WORKLOAD +RESOURCE +CEILING +GRANTED +USED +PROPOSED/);
    expect(stdout).toContain(`${DEV.spiffeId}: 1 grants, 5 uses; its ceiling could drop write on ${RESOURCE}`);
  });
});
