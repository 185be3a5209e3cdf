import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary } from '@mayfly/grpc';
import { ListEventsRequest, RevokeRequest, type AuditEvent } from '@mayfly/proto';
import { DEV, PROD, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 9, point 8: what the trail records of one grant's life, across record kinds and the
// services that write them — who asked (SPIFFE ID, evidence digest or SVID serial), why (task,
// justification), what was decided (policy ids and version), what was issued (jti, scope, exp),
// what was used (from the edge), what was revoked and by whom — each record's source being the
// component whose certificate delivered it.

const OPERATOR = /^spiffe:\/\/[^/]+\/mayfly\/operator$/;

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('audit_contents', { env: { MAYFLY_EDGE_USAGE_REPORT_MS: '200' } });
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string; exp: number; scope: string };

/** The grant's records once `kinds` have all arrived, by kind. */
async function recordsOf(grantId: string, kinds: readonly string[]): Promise<Map<string, AuditEvent>> {
  let events: AuditEvent[] = [];
  await eventually(async () => {
    events = (await callUnary(t.audit, t.audit.listEvents, ListEventsRequest.fromPartial({ grantId, limit: 100 }))).events;
    return kinds.every((kind) => events.some((event) => event.kind === kind));
  }, 15_000, 100);
  return new Map(events.map((event) => [event.kind, event]));
}

describe('23 what every audit record carries', () => {
  it('one grant, from request to revocation, with fresh evidence', async () => {
    const grant = await t.client(DEV.subject).acquire({
      task: { id: `contents-${Date.now()}`, kind: 'deploy', reference: 'CHG-1234', deadline: undefined },
      resource: RESOURCE,
      actions: ['read'],
      justification: 'nightly reconciliation',
    });
    const claims = claimsOf(grant.accessToken);
    const used = await callUnary(t.edge, t.edge.verify, { accessToken: grant.accessToken, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
    expect(used.reasonCode).toBe('');
    await callUnary(t.revocation, t.revocation.revoke, RevokeRequest.fromPartial({ grantId: grant.grant.id, reason: 'change window closed', requestedBy: 'on-call' }));

    const records = await recordsOf(grant.grant.id, ['grant.issued', 'grant.used', 'grant.revoked']);
    const taskId = grant.grant.task!.id;

    // An issued grant's record stands on its own and for the request, the attestation and the
    // decision: who asked, for what and why, when, on what evidence, what policy decided, and
    // what was issued.
    expect(records.has('grant.requested')).toBe(false);
    expect(records.has('attestation.succeeded')).toBe(false);
    expect(records.has('decision.made')).toBe(false);
    const issued = records.get('grant.issued')!;
    expect(issued).toMatchObject({
      actor: DEV.spiffeId,
      source: 'issuance',
      taskId,
      detail: {
        taskKind: 'deploy',
        taskReference: 'CHG-1234',
        justification: 'nightly reconciliation',
        resource: RESOURCE,
        effect: 'allow',
        policyVersion: expect.any(String),
        tokenId: claims.jti,
        scopes: claims.scope.split(' '),
        expiresAt: new Date(claims.exp * 1000).toISOString(),
        via: 'evidence',
        evidenceDigest: expect.stringMatching(/^[0-9a-f]{64}$|^[A-Za-z0-9_-]{43}$/),
      },
    });
    expect((issued.detail!['policyIds'] as string[]).length).toBeGreaterThan(0);
    expect(new Date(issued.detail!['requestedAt'] as string).getTime()).toBeLessThanOrEqual(issued.occurredAt!.getTime());
    // What was used, as the edge saw it (delivered by the edge's own certificate).
    expect(records.get('grant.used')).toMatchObject({ source: 'edge-verifier', detail: { resource: RESOURCE, action: 'read', count: 1 } });
    // What was revoked, by whom (the verified caller; what it said of itself is only a note) and why.
    expect(records.get('grant.revoked')).toMatchObject({
      actor: expect.stringMatching(OPERATOR),
      source: 'revocation',
      detail: { reason: 'change window closed', requestedByNote: 'on-call', tokenId: claims.jti, spiffeId: DEV.spiffeId },
    });
  });

  it('a grant within an attested session names the session certificate it was granted on', async () => {
    const client = t.client(PROD.subject, { session: true });
    try {
      const grant = await client.acquire({ task: { id: `contents-session-${Date.now()}`, kind: 'ci-job', reference: 'JOB-9', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
      const records = await recordsOf(grant.grant.id, ['grant.issued']);
      expect(records.get('grant.issued')).toMatchObject({
        actor: PROD.spiffeId,
        detail: { via: 'session', svidSerial: expect.stringMatching(/^[0-9A-F]+$/i), boundTo: expect.any(String), tokenId: claimsOf(grant.accessToken).jti },
      });
    } finally {
      client.close();
    }
  });
});
