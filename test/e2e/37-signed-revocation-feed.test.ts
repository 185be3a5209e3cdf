import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, grantRevocationSubject, heartbeatSubject, type NatsConnection } from '@mayfly/bus';
import { RevocationEvent, RevocationScope } from '@mayfly/proto';
import { EdgeVerifier } from '@mayfly/verifier';
import { DEV, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 20, point 3a (red team): on a NATS anyone could publish to, a forged revocation refused a
// live token, and genuine heartbeats replayed while the revocation service was frozen kept an edge
// accepting tokens for 8 s. NATS is transport, not trust: edges now act only on events, markers
// and heartbeats the revocation service signed, and refuse heartbeats that are old or replayed.
// The suites run on the machine's NATS, which accepts anyone: exactly the red team's setting.

const STALE_AFTER_MS = 1_500;
let t: TestMesh;
let nats: NatsConnection;
let attacker: NatsConnection;
let edge: EdgeVerifier;
const feedErrors: string[] = [];

beforeAll(async () => {
  t = await startTestMesh('signed_feed');
  nats = await connectBus(t.natsUrl, 'e2e-signed-feed-edge');
  attacker = await connectBus(t.natsUrl, 'e2e-attacker');
  edge = await EdgeVerifier.start({
    issuer: t.mesh.issuer,
    jwksUrl: t.mesh.jwksUrl,
    jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'],
    nats,
    ...t.stream,
    staleAfterMs: STALE_AFTER_MS,
    onFeedError: (error) => feedErrors.push((error as Error).message),
  });
  await edge.ready;
}, 60_000);
afterAll(async () => {
  await edge?.close();
  await nats?.close();
  await attacker?.close();
  await t?.close();
});

const acquire = (label: string) =>
  t.client(DEV.subject).acquire({ task: { id: `${label}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-37', deadline: undefined }, resource: RESOURCE, actions: ['read'], ttlSeconds: 120 });
const verify = (token: string) => edge.verify(token, { audience: RESOURCE, action: 'read' });

describe('37 edges act only on what the revocation service signed', () => {
  it('a forged revocation published straight to the stream is refused; the token stays valid; a genuine revocation still applies', async () => {
    const victim = await acquire('forged-target');
    expect((await verify(victim.accessToken)).ok).toBe(true);
    const forged = RevocationEvent.fromPartial({
      id: crypto.randomUUID(),
      scope: RevocationScope.REVOCATION_SCOPE_GRANT,
      grantId: victim.grant.id,
      tokenId: victim.grant.tokenId,
      reason: 'forged',
      revokedAt: new Date(),
      notAfter: new Date(Date.now() + 120_000),
    });
    const subject = grantRevocationSubject(t.stream.subjectPrefix, victim.grant.id);
    await jetstream(attacker).publish(subject, RevocationEvent.encode(forged).finish()); // unsigned
    const badSignature = (await import('@nats-io/transport-node')).headers();
    badSignature.set('Mayfly-Signature', 'not-a-key.AAAA');
    await jetstream(attacker).publish(subject, RevocationEvent.encode({ ...forged, id: crypto.randomUUID() }).finish(), { headers: badSignature });
    await eventually(async () => feedErrors.filter((message) => message.includes('refused the revocation event')).length >= 2, 5_000, 20);
    expect(feedErrors.join('\n')).toMatch(/\(unsigned\): not from the revocation service/);
    expect(feedErrors.join('\n')).toMatch(/\((unknown key|bad signature)\): not from the revocation service/);
    expect((await verify(victim.accessToken)).ok).toBe(true);
    // Positive control: the revocation service's own event is applied.
    await victim.release();
    await eventually(async () => (await verify(victim.accessToken)).ok === false, 5_000, 20);
    expect(await verify(victim.accessToken)).toMatchObject({ ok: false, code: 'ERR_TOKEN_REVOKED' });
  });

  it('forged heartbeats do not keep an edge live', async () => {
    const token = (await acquire('forged-heartbeats')).accessToken;
    expect((await verify(token)).ok).toBe(true);
    const revocation = t.mesh.processes.get('revocation')!;
    process.kill(revocation.pid!, 'SIGSTOP');
    const forger = setInterval(() => attacker.publish(heartbeatSubject(t.stream.subjectPrefix), JSON.stringify({ created: 'x', lastSequence: 0, sentAt: Date.now() })), 100);
    try {
      await eventually(async () => (await verify(token)).ok === false, STALE_AFTER_MS + 2_000, 20);
      expect(await verify(token)).toMatchObject({ ok: false, code: 'ERR_REVOCATION_FEED_STALE' });
      expect(feedErrors.some((message) => message.startsWith('refused a heartbeat (unsigned)'))).toBe(true);
    } finally {
      clearInterval(forger);
      process.kill(revocation.pid!, 'SIGCONT');
    }
    await eventually(async () => (await verify(token)).ok, 10_000, 50);
  }, 30_000);

  it('genuine heartbeats replayed while the revocation service is frozen do not keep an edge live past its bound', async () => {
    const token = (await acquire('replayed-heartbeats')).accessToken;
    // Record the revocation service's real heartbeats for a while, as the red team did.
    const recorded: Uint8Array[] = [];
    const tap = attacker.subscribe(heartbeatSubject(t.stream.subjectPrefix), { callback: (error, message) => void (error || recorded.push(message.data)) });
    await eventually(async () => recorded.length >= 3, 5_000, 50);
    tap.unsubscribe();
    expect((await verify(token)).ok).toBe(true);

    const revocation = t.mesh.processes.get('revocation')!;
    process.kill(revocation.pid!, 'SIGSTOP');
    const frozenAt = Date.now();
    let next = 0;
    const replayer = setInterval(() => attacker.publish(heartbeatSubject(t.stream.subjectPrefix), recorded[next++ % recorded.length]!), 100);
    try {
      await eventually(async () => (await verify(token)).ok === false, STALE_AFTER_MS + 2_000, 20);
      const staleAfter = Date.now() - frozenAt;
      expect(await verify(token)).toMatchObject({ ok: false, code: 'ERR_REVOCATION_FEED_STALE' });
      // Stale within the bound of the last genuine heartbeat (at most ~1 s before the freeze).
      expect(staleAfter).toBeLessThanOrEqual(STALE_AFTER_MS + 1_200);
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // replays keep coming: still stale
      expect((await verify(token)).ok).toBe(false);
      console.log(`replayed heartbeats: stale ${staleAfter} ms after the freeze (bound ${STALE_AFTER_MS} ms)`);
    } finally {
      clearInterval(replayer);
      process.kill(revocation.pid!, 'SIGCONT');
    }
    await eventually(async () => (await verify(token)).ok, 10_000, 50);
  }, 30_000);

  // Found running the quick start: an edge that started before the revocation service served its
  // keys died (ECONNREFUSED on 8081), and took `npm start` with it. It must wait, failing closed.
  it('an edge started while the revocation service is down refuses every token, then goes live once it is back', async () => {
    const access = await acquire('edge-before-revocation');
    await t.mesh.stopService('revocation');
    let late: EdgeVerifier | undefined;
    let restarted = false;
    const lateNats = await connectBus(t.natsUrl, 'e2e-late-edge');
    try {
      const errors: string[] = [];
      late = await EdgeVerifier.start({ issuer: t.mesh.issuer, jwksUrl: t.mesh.jwksUrl, jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'], nats: lateNats, ...t.stream, staleAfterMs: STALE_AFTER_MS, onFeedError: (error) => errors.push((error as Error).message) });
      expect(late.feedState).not.toBe('live');
      expect(await late.verify(access.accessToken, { audience: RESOURCE, action: 'read' })).toMatchObject({ ok: false });
      expect(errors.join('\n')).toMatch(/cannot check the revocation service's resync marker yet/);
      await t.mesh.startService('revocation');
      restarted = true;
      await late.ready;
      expect((await late.verify(access.accessToken, { audience: RESOURCE, action: 'read' })).ok).toBe(true);
    } finally {
      await late?.close();
      await lateNats.close();
      if (!restarted) await t.mesh.startService('revocation');
    }
  }, 60_000);

  it('the revocation service publishes its feed keys over HTTPS with its own certificate', async () => {
    const url = t.stream.revocationKeysUrl;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/\.well-known\/revocation-keys\.json$/);
    const { httpsFetch } = await import('@mayfly/pki');
    const fetchPinned = httpsFetch({ caFile: t.mesh.env['MAYFLY_TLS_CA_FILE'], spiffeId: 'spiffe://mayfly.local/mayfly/revocation', allowHttp: false });
    const init = { headers: new Headers(), signal: AbortSignal.timeout(5_000) };
    const response = await fetchPinned(url, init);
    const body = (await response.json()) as { keys: { kty: string; crv: string; kid: string; alg: string }[] };
    expect(body.keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' })]);
    // Pinned to another identity, the same server is refused.
    const wrongPin = httpsFetch({ caFile: t.mesh.env['MAYFLY_TLS_CA_FILE'], spiffeId: 'spiffe://mayfly.local/mayfly/issuance', allowHttp: false });
    await expect(wrongPin(url, init)).rejects.toThrow();
  });
});
