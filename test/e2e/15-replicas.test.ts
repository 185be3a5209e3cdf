import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MayflyClient } from '@mayfly/client';
import type { MeshReplica } from '@mayfly/mesh';
import { DEV, RESOURCE, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 8: replicas share the load. A client given several addresses (a headless Service's pods
// in Kubernetes; an "ipv4:" list here) spreads calls over all of them, and servers close
// connections after MAYFLY_GRPC_MAX_CONNECTION_AGE_MS so that clients re-resolve and find new
// replicas — with no failed call when they do.

let t: TestMesh;
let decisionReplica: MeshReplica;
let issuanceReplica: MeshReplica;

beforeAll(async () => {
  t = await startTestMesh('replicas', { env: { MAYFLY_GRPC_MAX_CONNECTION_AGE_MS: '1000', MAYFLY_GRANT_RATE_PER_SECOND: '0' } });
  decisionReplica = await t.mesh.startReplica('decision');
  // A second issuance that knows both decision replicas, as a headless Service would list them.
  issuanceReplica = await t.mesh.startReplica('issuance', { env: { MAYFLY_DECISION_ADDR: `ipv4:${t.mesh.addresses.decision},${decisionReplica.address}` } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

/** The process's count of decisions made, from its Prometheus endpoint. */
async function decisionsMade(metricsAddress: string): Promise<number> {
  const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  return [...text.matchAll(/^mayfly_decisions_total\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('15 replicas', () => {
  it('spreads decisions over both decision replicas, across connection recycling, with no failed grant', async () => {
    const before = [await decisionsMade(`127.0.0.1:${t.mesh.ports.metrics.decision}`), await decisionsMade(decisionReplica.metricsAddress)];
    const client = t.client(DEV.subject);
    const viaReplica = new MayflyClient({ issuanceAddress: issuanceReplica.address, evidence: () => t.evidence(DEV.subject), session: false });
    const failures: unknown[] = [];
    const started = Date.now();
    let grants = 0;
    // Longer than two connection ages: every connection is recycled at least once under load.
    while (Date.now() - started < 3_000) {
      await Promise.all(
        [viaReplica, viaReplica, client].map((workload, n) =>
          workload
            .acquire({ task: { id: `replicas-${grants}-${n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-8', deadline: undefined }, resource: RESOURCE, actions: ['read'] })
            .then((grant) => grant.release())
            .catch((error: unknown) => failures.push(error)),
        ),
      );
      grants += 3;
    }
    viaReplica.close();
    expect(failures).toEqual([]);
    const after = [await decisionsMade(`127.0.0.1:${t.mesh.ports.metrics.decision}`), await decisionsMade(decisionReplica.metricsAddress)];
    const made = after.map((count, i) => count - before[i]!);
    // The replica issuance sent two thirds of the grants, round robin over both decisions.
    expect(made[1]!, `decisions per replica: ${made.join(', ')} of ${grants} grants`).toBeGreaterThan(grants / 6);
    expect(made[0]! + made[1]!).toBe(grants);
  }, 30_000);
});
