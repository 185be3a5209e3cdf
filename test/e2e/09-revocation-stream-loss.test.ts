import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, ensureRevocationStream, grantRevocationSubject, type FeedState, type NatsConnection } from '@mayfly/bus';
import { callUnary, waitForHealthy } from '@mayfly/grpc';
import { RevocationEvent, Verdict } from '@mayfly/proto';
import { EdgeVerifier } from '@mayfly/verifier';
import { DEV, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Step 9: a revocation survives the stream being deleted, recreated or purged, and the process
// that publishes it dying; edges fail closed while the stream cannot be vouched for, and no
// event on the stream, however malformed, takes an edge down.

let t: TestMesh;
let nats: NatsConnection;
const edges: EdgeVerifier[] = [];

beforeAll(async () => {
  t = await startTestMesh('stream-loss', { env: { MAYFLY_REVOCATION_STREAM_CHECK_MS: '300' } });
  nats = await connectBus(t.natsUrl, 'mayfly-e2e-stream-loss');
});
afterAll(async () => {
  await Promise.all(edges.map((edge) => edge.close()));
  await nats?.close();
  await t?.close();
});

let n = 0;
const task = (label: string) => ({ id: `${label}-${++n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined });
const acquire = (label: string) => t.client(DEV.subject).acquire({ task: task(label), resource: RESOURCE, actions: ['read'] });
const revoke = (grantId: string) => callUnary(t.revocation, t.revocation.revoke, { grantId, reason: 'stream-loss test', requestedBy: '', finalStatus: 0 });

/** An embedded edge that records the states its feed goes through. */
async function edge(): Promise<{ edge: EdgeVerifier; states: FeedState[]; errors: string[] }> {
  const states: FeedState[] = [];
  const errors: string[] = [];
  const verifier = await EdgeVerifier.start({
    issuer: t.mesh.issuer,
    jwksUrl: t.mesh.jwksUrl,
    jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'],
    nats,
    ...t.stream,
    feedCheckIntervalMs: 200,
    onFeedStateChange: (state) => states.push(state),
    onFeedError: (error) => errors.push((error as Error).message),
  });
  edges.push(verifier);
  await verifier.ready;
  return { edge: verifier, states, errors };
}

const verdict = (verifier: EdgeVerifier, token: string) => verifier.verify(token, { audience: RESOURCE });
const sidecar = (token: string) => callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) });

describe('09 revocation survives the stream', () => {
  it('the stream is deleted: the revocation service recreates it and republishes; a running edge resyncs and still rejects', async () => {
    const running = await edge();
    const revoked = await acquire('deleted-revoked');
    const live = await acquire('deleted-live');
    await revoke(revoked.grant.id);
    await eventually(async () => !(await verdict(running.edge, revoked.accessToken)).ok);

    const jsm = await jetstreamManager(nats);
    await jsm.streams.delete(t.stream.stream);
    await eventually(async () => running.states.includes('resyncing'), 5_000);
    await eventually(async () => running.edge.feedState === 'live', 10_000);
    expect(await verdict(running.edge, revoked.accessToken)).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
    expect((await verdict(running.edge, live.accessToken)).ok).toBe(true);

    // An edge that starts now learns of the revocation from the repaired stream.
    const late = await edge();
    expect(await verdict(late.edge, revoked.accessToken)).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
    expect((await verdict(late.edge, live.accessToken)).ok).toBe(true);
    await live.release();
  });

  it('the stream is recreated empty behind Mayfly\'s back: edges refuse until the revocation service has republished', async () => {
    const running = await edge();
    const revoked = await acquire('recreated-revoked');
    await revoke(revoked.grant.id);
    await eventually(async () => !(await verdict(running.edge, revoked.accessToken)).ok);

    const jsm = await jetstreamManager(nats);
    await jsm.streams.delete(t.stream.stream);
    await ensureRevocationStream(nats, { ...t.stream, retentionSeconds: 86_400 });
    await eventually(async () => running.states.includes('resyncing'), 5_000);
    await eventually(async () => running.edge.feedState === 'live', 10_000);
    expect(await verdict(running.edge, revoked.accessToken)).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
    const stored = await jsm.streams.info(t.stream.stream);
    expect(stored.state.messages).toBeGreaterThanOrEqual(1); // the revocation is back on the stream
  });

  it('the stream is purged: an edge starting right after never accepts a purged revocation', async () => {
    const revoked = await acquire('purged-revoked');
    await revoke(revoked.grant.id);
    await eventually(async () => (await sidecar(revoked.accessToken)).verdict === Verdict.VERDICT_REJECTED);

    const jsm = await jetstreamManager(nats);
    await jsm.streams.purge(t.stream.stream);
    const late = await edge(); // ready only once the revocation service vouches for the purged stream
    expect(await verdict(late.edge, revoked.accessToken)).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
    expect((await sidecar(revoked.accessToken)).verdict).toBe(Verdict.VERDICT_REJECTED);
  });

  it('a revocation service killed outright is restarted by the launcher and carries on', async () => {
    const revocation = t.mesh.processes.get('revocation')!;
    const before = revocation.restarts;
    process.kill(revocation.pid!, 'SIGKILL');
    await eventually(async () => revocation.restarts > before && revocation.running, 10_000);
    await waitForHealthy(t.mesh.healthAddresses.revocation, 15_000);
    const access = await acquire('after-restart');
    await revoke(access.grant.id);
    await eventually(async () => (await sidecar(access.accessToken)).verdict === Verdict.VERDICT_REJECTED);
    expect(t.logLines.some((line) => line.includes('exited unexpectedly'))).toBe(true);
  });

  it('malformed events on the stream are ignored and reported; the edge keeps working', async () => {
    const running = await edge();
    const js = jetstream(nats);
    const subject = grantRevocationSubject(t.stream.subjectPrefix, 'hostile');
    await js.publish(subject, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])); // not protobuf
    await js.publish(subject, RevocationEvent.encode(RevocationEvent.fromPartial({ id: 'x', grantId: 'g'.repeat(10_000) })).finish());
    await js.publish(subject, RevocationEvent.encode(RevocationEvent.fromPartial({ id: 'y', grantId: "'; DROP TABLE grants; --", tokenId: 'nope' })).finish());
    await eventually(async () => running.errors.length >= 3);
    // Unsigned, so refused before they are even read (issue 20, point 3a).
    expect(running.errors.join('\n')).toMatch(/refused the revocation event .*\(unsigned\)/);

    const access = await acquire('after-garbage');
    expect((await verdict(running.edge, access.accessToken)).ok).toBe(true);
    expect((await sidecar(access.accessToken)).verdict).toBe(Verdict.VERDICT_ACCEPTED);
    expect(t.mesh.processes.get('edge-verifier')!.running).toBe(true);
    await revoke(access.grant.id);
    await eventually(async () => !(await verdict(running.edge, access.accessToken)).ok);
  });
});
