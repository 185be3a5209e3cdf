import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type NatsConnection } from '@mayfly/bus';
import { callUnary, createClient } from '@mayfly/grpc';
import type { MeshReplica } from '@mayfly/mesh';
import { ConsumeRequest, EdgeVerifierServiceClient, RevocationServiceClient, Verdict } from '@mayfly/proto';
import { EdgeVerifier } from '@mayfly/verifier';
import { DEV, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 12, point 4: a single-use token is accepted once, at one edge. The edge consumes it at
// the revocation service before accepting (the first consumer wins, decided in PostgreSQL), which
// ends the grant and publishes its revocation; every later presentation at any edge is refused
// with ERR_TOKEN_CONSUMED — at once by the consumption record, and without a round trip once
// the revocation has reached the edge (milliseconds).

let t: TestMesh;
let secondEdge: MeshReplica;
let second: EdgeVerifierServiceClient;
let nats: NatsConnection;
beforeAll(async () => {
  t = await startTestMesh('single_use');
  secondEdge = await t.mesh.startReplica('edge-verifier');
  second = createClient(EdgeVerifierServiceClient, secondEdge.address, 'edge-verifier');
  nats = await connectBus(t.natsUrl, 'mayfly-e2e-single-use');
}, 60_000);
afterAll(async () => {
  second?.close();
  await secondEdge?.stop();
  await nats?.close();
  await t?.close();
});

let n = 0;
const acquireOnce = () =>
  t.client(DEV.subject).acquire({ task: { id: `once-${++n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-12', deadline: undefined }, resource: RESOURCE, actions: ['read'], singleUse: true });
const at = async (edge: EdgeVerifierServiceClient, token: string) => {
  const answer = await callUnary(edge, edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
  return answer.verdict === Verdict.VERDICT_ACCEPTED ? 'accepted' : answer.reasonCode;
};

describe('28 single-use tokens', () => {
  it('is accepted once, at one edge; every later presentation, at either edge, is ERR_TOKEN_CONSUMED', async () => {
    // An embedded edge with no consumer: it can refuse the token only from the revocation it hears.
    const listener = await EdgeVerifier.start({ issuer: t.mesh.issuer, jwksUrl: t.mesh.jwksUrl, jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'], nats, ...t.stream });
    try {
      await listener.ready;
      const grant = await acquireOnce();
      expect(grant.grant.singleUse).toBe(true);
      expect(JSON.parse(Buffer.from(grant.token.split('.')[1]!, 'base64url').toString())).toMatchObject({ single_use: true });
      // The grant cannot be renewed: its ceiling is its one token's expiry.
      expect(grant.grant.renewableUntil).toEqual(grant.grant.expiresAt);

      expect(await at(t.edge, grant.token)).toBe('accepted');
      const acceptedAt = performance.now();
      // At once, whether or not the revocation has arrived: the consumption record refuses.
      expect(await at(second, grant.token)).toBe('ERR_TOKEN_CONSUMED');
      expect(await at(t.edge, grant.token)).toBe('ERR_TOKEN_CONSUMED');
      // The revocation the consumption published reaches every edge: they refuse locally.
      await eventually(async () => {
        const verdict = await listener.verify(grant.token, { audience: RESOURCE });
        return !verdict.ok && verdict.code === 'ERR_TOKEN_CONSUMED';
      }, 5_000, 5);
      process.stdout.write(`single use: an edge that never saw the token refused it as consumed ${(performance.now() - acceptedAt).toFixed(1)} ms after another edge accepted it\n`);

      const row = await t.db.selectFrom('grants').select(['status', 'consumed_at', 'end_reason']).where('id', '=', grant.grant.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'completed', consumed_at: expect.any(Date), end_reason: expect.stringMatching(/^consumed \(single use\)/) });
      expect((await t.db.selectFrom('revocations').select('consumed').where('grant_id', '=', grant.grant.id).executeTakeFirstOrThrow()).consumed).toBe(true);
      await eventually(async () => {
        const rows = await t.db.selectFrom('audit_events').select(['kind', 'actor']).where('grant_id', '=', grant.grant.id).execute();
        return rows.some((r) => r.kind === 'grant.consumed' && r.actor.endsWith('/mayfly/edge-verifier'));
      }, 10_000, 100);
    } finally {
      await listener.close();
    }
  });

  it('two edges presented the same token at the same moment: exactly one accepts', async () => {
    for (let round = 0; round < 5; round++) {
      const grant = await acquireOnce();
      const verdicts = await Promise.all([at(t.edge, grant.token), at(second, grant.token), at(t.edge, grant.token), at(second, grant.token)]);
      expect(verdicts.filter((v) => v === 'accepted')).toHaveLength(1);
      expect(verdicts.filter((v) => v !== 'accepted').every((v) => v === 'ERR_TOKEN_CONSUMED')).toBe(true);
    }
  });

  it('an edge that cannot consume refuses single-use tokens rather than risk a second use; ordinary tokens are unaffected', async () => {
    const edge = await EdgeVerifier.start({ issuer: t.mesh.issuer, jwksUrl: t.mesh.jwksUrl, jwksCaFile: t.mesh.env['MAYFLY_TLS_CA_FILE'], nats, ...t.stream });
    try {
      await edge.ready;
      const once = await acquireOnce();
      expect(await edge.verify(once.token, { audience: RESOURCE })).toMatchObject({ ok: false, code: 'ERR_SINGLE_USE_UNAVAILABLE' });
      const ordinary = await t.client(DEV.subject).acquire({ task: { id: `ordinary-${Date.now()}`, kind: 'ci-job', reference: 'JOB-12', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
      expect((await edge.verify(ordinary.token, { audience: RESOURCE })).ok).toBe(true);
      expect(await at(t.edge, once.token)).toBe('accepted'); // still unused: the refusing edge did not consume it
    } finally {
      await edge.close();
    }
  });

  it('a second consumption reaching the revocation service is refused (FAILED_PRECONDITION) and audited with who tried and where', async () => {
    const grant = await acquireOnce();
    const tokenId = (JSON.parse(Buffer.from(grant.token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
    // As an edge would call it (the edge verifier's mesh certificate).
    const asEdge = createClient(RevocationServiceClient, t.mesh.addresses.revocation, 'revocation', {
      certificatePem: readFileSync(join(t.pkiDir, 'edge-verifier.pem'), 'utf8'),
      privateKeyPem: readFileSync(join(t.pkiDir, 'edge-verifier-key.pem'), 'utf8'),
    });
    try {
      const consume = () => callUnary(asEdge, asEdge.consume, ConsumeRequest.fromPartial({ grantId: grant.grant.id, tokenId, resource: RESOURCE, action: 'read' }));
      expect((await consume()).revocation).toMatchObject({ grantId: grant.grant.id, consumed: true });
      const again = await refusal(consume());
      expect(wireStatus(again)).toBe(status.FAILED_PRECONDITION);
      expect(again.code).toBe('ERR_TOKEN_CONSUMED');
      await eventually(async () => {
        const rows = await t.db.selectFrom('audit_events').select(['kind', 'actor', 'detail']).where('grant_id', '=', grant.grant.id).where('kind', '=', 'grant.consume_refused').execute();
        return rows.some((r) => r.actor.endsWith('/mayfly/edge-verifier') && (r.detail as Record<string, unknown>)['resource'] === RESOURCE);
      }, 10_000, 100);
      expect(await at(t.edge, grant.token)).toBe('ERR_TOKEN_CONSUMED');
    } finally {
      asEdge.close();
    }
  });

  it('only edge verifiers may consume', async () => {
    const grant = await acquireOnce();
    // The test's client is the operator: not an edge.
    const error = await refusal(callUnary(t.revocation, t.revocation.consume, ConsumeRequest.fromPartial({ grantId: grant.grant.id, tokenId: JSON.parse(Buffer.from(grant.token.split('.')[1]!, 'base64url').toString()).jti })));
    expect(wireStatus(error)).toBe(status.PERMISSION_DENIED);
    expect(await at(t.edge, grant.token)).toBe('accepted');
  });
});
