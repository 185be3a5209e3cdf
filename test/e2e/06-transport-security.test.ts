import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChannelCredentials, status, type Client } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceName } from '@mayfly/config';
import { callUnary, channelCredentials, checkHealth } from '@mayfly/grpc';
import { ensureDevPki } from '@mayfly/pki';
import { AttestationServiceClient, AuditServiceClient, DecideRequest, DecisionServiceClient, GrantStatus, RevocationServiceClient, ListEventsRequest } from '@mayfly/proto';
import { DEV, RESOURCE, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Step 6: every internal hop is mutual TLS, and each RPC admits only the callers its role needs:
// nobody but issuance can ask for attestation or a decision, so nobody else can cause a signature.

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('transport');
});
afterAll(async () => {
  await t?.close();
});

const credentialsOf = (identity: string, pkiDir?: string): ChannelCredentials => t.credentialsAs(identity, pkiDir ? { pkiDir } : {});

type Ctor<C> = new (address: string, credentials: ChannelCredentials) => C;
function clientAs<C extends Client>(Client: Ctor<C>, service: ServiceName, credentials: ChannelCredentials): C {
  return new Client(t.mesh.addresses[service], credentials);
}

const decideRequest = DecideRequest.fromPartial({
  workload: { spiffeId: DEV.spiffeId, environment: 'dev', ceiling: [{ resource: RESOURCE, actions: ['read'] }] },
  task: { id: 'transport-1', kind: 'ci-job' },
  resource: RESOURCE,
  actions: ['read'],
});

describe('06 transport security', () => {
  it('admits the caller a role needs: issuance may ask decision', async () => {
    const decision = clientAs(DecisionServiceClient, 'decision', credentialsOf('issuance'));
    await expect(callUnary(decision, decision.decide, decideRequest)).resolves.toMatchObject({ policyIds: expect.any(Array) });
    decision.close();
  });

  describe('refuses service identities calling outside their role with PERMISSION_DENIED', () => {
    const cases: [string, string, ServiceName, (c: Client) => Promise<unknown>, new (a: string, c: ChannelCredentials) => Client][] = [
      ['revocation → Decision.Decide', 'revocation', 'decision', (c) => callUnary(c, (c as DecisionServiceClient).decide, decideRequest), DecisionServiceClient],
      ['operator → Decision.Decide', 'operator', 'decision', (c) => callUnary(c, (c as DecisionServiceClient).decide, decideRequest), DecisionServiceClient],
      ['audit → Attestation.Attest', 'audit', 'attestation', (c) => callUnary(c, (c as AttestationServiceClient).attest, { evidence: { oidcToken: 'x.y.z' } }), AttestationServiceClient],
      ['edge-verifier → Revocation.Revoke', 'edge-verifier', 'revocation', (c) => callUnary(c, (c as RevocationServiceClient).revoke, { grantId: '00000000-0000-4000-8000-000000000000', reason: 'x', requestedBy: 'x', finalStatus: GrantStatus.GRANT_STATUS_UNSPECIFIED }), RevocationServiceClient],
      ['decision → Audit.ListEvents', 'decision', 'audit', (c) => callUnary(c, (c as AuditServiceClient).listEvents, ListEventsRequest.fromPartial({ limit: 1 })), AuditServiceClient],
      ['decision → Attestation.Attest', 'decision', 'attestation', (c) => callUnary(c, (c as AttestationServiceClient).attest, { evidence: { oidcToken: 'x.y.z' } }), AttestationServiceClient],
      ['issuance → Audit.ListEvents', 'issuance', 'audit', (c) => callUnary(c, (c as AuditServiceClient).listEvents, ListEventsRequest.fromPartial({ limit: 1 })), AuditServiceClient],
    ];
    for (const [name, identity, service, call, Ctor] of cases) {
      it(name, async () => {
        const client = clientAs(Ctor as Ctor<Client>, service, credentialsOf(identity));
        const error = await refusal(call(client));
        expect(wireStatus(error)).toBe(status.PERMISSION_DENIED);
        expect(error.code).toBe('ERR_CALLER_NOT_ALLOWED');
        expect(error.message).toContain(`spiffe://mayfly.local/mayfly/${identity} may not call`);
        client.close();
      });
    }
  });

  it('refuses plaintext, a missing client certificate and a certificate from another CA at the handshake', async () => {
    const foreignDir = mkdtempSync(join(tmpdir(), 'mayfly-foreign-pki-'));
    await ensureDevPki(foreignDir, 'mayfly.local', ['issuance']);
    const attempts: [string, ChannelCredentials][] = [
      ['plaintext', ChannelCredentials.createInsecure()],
      ['no client certificate', ChannelCredentials.createSsl(readFileSync(join(t.pkiDir, 'ca.pem')), null, null, { checkServerIdentity: () => undefined })],
      ['issuance name, foreign CA', credentialsOf('issuance', foreignDir)],
    ];
    for (const [name, credentials] of attempts) {
      const decision = clientAs(DecisionServiceClient, 'decision', credentials);
      const error = await refusal(callUnary(decision, decision.decide, decideRequest, { timeoutMs: 2_000 }));
      expect(wireStatus(error), name).toBe(status.UNAVAILABLE);
      decision.close();
    }
  });

  it('a client refuses a server whose certificate names another component', async () => {
    // Dial decision's port while expecting attestation: the SPIFFE ID check fails.
    const impostor = new AttestationServiceClient(t.mesh.addresses.decision, channelCredentials('attestation'));
    const error = await refusal(callUnary(impostor, impostor.attest, { evidence: { oidcToken: 'x.y.z' } }, { timeoutMs: 2_000 }));
    expect(wireStatus(error)).toBe(status.UNAVAILABLE);
    impostor.close();
  });

  it('workload-facing issuance needs no client certificate, only the CA to check the server', async () => {
    const workloadOnly = ChannelCredentials.createSsl(readFileSync(join(t.pkiDir, 'ca.pem')), null, null);
    const { IssuanceServiceClient } = await import('@mayfly/proto');
    const issuance = new IssuanceServiceClient(t.mesh.addresses.issuance, workloadOnly);
    const response = await callUnary(issuance, issuance.requestGrant, {
      evidence: { oidcToken: await t.evidence(DEV.subject) },
      task: { id: `tls-${Date.now()}`, kind: 'ci-job', reference: '', deadline: undefined },
      resource: RESOURCE,
      actions: ['read'],
      requestedTtlSeconds: 60,
      justification: '',
      idempotencyKey: '',
      heartbeatIntervalSeconds: 0,
      singleUse: false,
      breakGlass: false,
    });
    expect(response.accessToken.split('.')).toHaveLength(3);
    issuance.close();
  });

  it('keeps grpc.health.v1 reachable in plaintext for probes, on its own port', async () => {
    for (const service of ['attestation', 'decision', 'audit', 'revocation'] as const) {
      expect(await checkHealth(t.mesh.healthAddresses[service]), service).toBe(true);
    }
  });
});
