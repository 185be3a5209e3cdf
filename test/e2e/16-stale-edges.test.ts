import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type NatsConnection } from '@mayfly/bus';
import { LIVENESS_SERVICE, callUnary, checkHealth } from '@mayfly/grpc';
import { GrantStatus, Verdict } from '@mayfly/proto';
import { EdgeVerifier } from '@mayfly/verifier';
import { natsProxy } from '../support/nats-proxy.js';
import { DEV, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 9, point 3: an edge that cannot hear the revocation service's heartbeat for its
// staleness bound refuses every token (ERR_REVOCATION_FEED_STALE) — cut off from NATS, or frozen —
// and when the feed returns it catches up before accepting again: a token revoked while it was
// away is never accepted.

const STALE_AFTER_MS = 1_500;
let t: TestMesh;

beforeAll(async () => {
  t = await startTestMesh('stale_edges', { env: { MAYFLY_EDGE_STALE_AFTER_MS: String(STALE_AFTER_MS) } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const acquire = (label: string) =>
  t.client(DEV.subject).acquire({ task: { id: `${label}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined }, resource: RESOURCE, actions: ['read'], ttlSeconds: 120 });
const revoke = (grantId: string) =>
  callUnary(t.revocation, t.revocation.revoke, { grantId, reason: 'revoked while the edge was away', requestedBy: 'e2e', finalStatus: GrantStatus.GRANT_STATUS_UNSPECIFIED }, { target: 'revocation' });

describe('16 stale edges fail closed', () => {
  it('an edge cut off from NATS refuses every token after the bound, and after reconnecting rejects what was revoked meanwhile', async () => {
    const proxy = await natsProxy(new URL(t.natsUrl));
    let nats: NatsConnection | undefined;
    let edge: EdgeVerifier | undefined;
    try {
      nats = await connectBus(proxy.url, 'mayfly-e2e-stale-edge');
      const states: string[] = [];
      edge = await EdgeVerifier.start({
        issuer: t.mesh.issuer,
        jwksUrl: t.mesh.jwksUrl,
        jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'],
        nats,
        ...t.stream,
        staleAfterMs: STALE_AFTER_MS,
        onFeedStateChange: (state) => states.push(state),
      });
      await edge.ready;
      const [revokedMeanwhile, untouched] = [await acquire('stale-revoked'), await acquire('stale-untouched')];
      const verify = (token: string) => edge!.verify(token, { audience: RESOURCE, action: 'read' });
      expect((await verify(revokedMeanwhile.accessToken)).ok).toBe(true);
      expect((await verify(untouched.accessToken)).ok).toBe(true);

      proxy.cut();
      const cutAt = Date.now();
      await revoke(revokedMeanwhile.grant.id);
      // Until the bound passes the edge cannot know; after it, it refuses everything.
      await eventually(async () => !(await verify(untouched.accessToken)).ok, STALE_AFTER_MS + 3_000, 20);
      const failedClosedAfterMs = Date.now() - cutAt;
      expect(await verify(untouched.accessToken)).toMatchObject({ ok: false, code: 'ERR_REVOCATION_FEED_STALE' });
      expect(await verify(revokedMeanwhile.accessToken)).toMatchObject({ ok: false, code: 'ERR_REVOCATION_FEED_STALE' });
      expect(failedClosedAfterMs).toBeLessThanOrEqual(STALE_AFTER_MS + 1_000); // the last heartbeat came at most ~1 s before the cut
      await eventually(async () => states.includes('stale'), 1_000, 20); // reported by the watchdog (health NOT_SERVING in the sidecar)
      console.log(`staleness bound ${STALE_AFTER_MS} ms: failed closed ${failedClosedAfterMs} ms after the cut`);

      proxy.heal();
      await eventually(async () => (await verify(untouched.accessToken)).ok, 15_000, 50);
      expect(await verify(revokedMeanwhile.accessToken)).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
      expect(states.at(-1)).toBe('live');
    } finally {
      await edge?.close();
      await nats?.close();
      await proxy.close();
    }
  }, 60_000);

  it('an edge process frozen (SIGSTOP) past the bound accepts nothing it should not when it resumes', async () => {
    const edgeProcess = t.mesh.processes.get('edge-verifier')!;
    const sidecar = async (token: string) =>
      callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) }, { target: 'edge', timeoutMs: 5_000 });
    const [revokedMeanwhile, untouched] = [await acquire('frozen-revoked'), await acquire('frozen-untouched')];
    expect((await sidecar(revokedMeanwhile.accessToken)).verdict).toBe(Verdict.VERDICT_ACCEPTED);

    process.kill(edgeProcess.pid!, 'SIGSTOP');
    try {
      await revoke(revokedMeanwhile.grant.id);
      await new Promise((resolve) => setTimeout(resolve, STALE_AFTER_MS * 2));
    } finally {
      process.kill(edgeProcess.pid!, 'SIGCONT');
    }
    // The first answer after waking: the revoked token is refused, as stale or as revoked.
    const first = await sidecar(revokedMeanwhile.accessToken);
    expect(first.verdict).toBe(Verdict.VERDICT_REJECTED);
    expect(['ERR_REVOCATION_FEED_STALE', 'ERR_TOKEN_REVOKED']).toContain(first.reasonCode);
    await eventually(async () => (await sidecar(untouched.accessToken)).verdict === Verdict.VERDICT_ACCEPTED, 10_000, 50);
    expect(await sidecar(revokedMeanwhile.accessToken)).toMatchObject({ verdict: Verdict.VERDICT_REJECTED, reasonCode: 'ERR_TOKEN_REVOKED' });
  }, 60_000);

  it('with the revocation service stopped, edges go stale, refuse and report NOT_SERVING; when it returns they serve again', async () => {
    const token = (await acquire('no-revocation-service')).accessToken;
    const sidecar = async () => callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
    expect((await sidecar()).verdict).toBe(Verdict.VERDICT_ACCEPTED);
    await t.mesh.stopService('revocation');
    try {
      await eventually(async () => (await sidecar()).reasonCode === 'ERR_REVOCATION_FEED_STALE', STALE_AFTER_MS + 5_000, 50);
      expect(t.logLines.some((line) => line.startsWith('edge-verifier') && line.includes('"state":"stale"'))).toBe(true);
      await eventually(async () => !(await checkHealth(t.mesh.healthAddresses['edge-verifier'])), 2_000, 50);
      // Liveness asks another name: a stale feed is not a dead process, so Kubernetes does not
      // restart every edge pod during a NATS or revocation outage (the chart's livenessProbe).
      expect(await checkHealth(t.mesh.healthAddresses['edge-verifier'], 1_000, LIVENESS_SERVICE)).toBe(true);
    } finally {
      await t.mesh.startService('revocation');
    }
    await eventually(async () => (await sidecar()).verdict === Verdict.VERDICT_ACCEPTED, 10_000, 50);
    expect(await checkHealth(t.mesh.healthAddresses['edge-verifier'])).toBe(true);
  }, 60_000);
});
