import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { SignJWT, createRemoteJWKSet, customFetch, decodeProtectedHeader, generateKeyPair, jwtVerify } from 'jose';
import { fetchTrustingCa } from '@mayfly/verifier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary } from '@mayfly/grpc';
import { DevIssuer, withLowS } from '@mayfly/mesh';
import { AuditEvent, GrantStatus, Verdict, type RequestGrantRequest } from '@mayfly/proto';
import { AUDIENCE, DEV, ISSUER, PROD, RESOURCE, STRANGER_SUBJECT, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Step 2: a grant travels attestation → decision → issuance, leaves a grant row and an audit
// trail, and an edge accepts its token. Denies and bad evidence are refused precisely, audited,
// and leave no grant behind.

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('grant-path');
});
afterAll(async () => {
  await t?.close();
});

let taskCounter = 0;
const taskId = (label: string): string => `${label}-${++taskCounter}-${Date.now()}`;

async function request(subject: string, overrides: Partial<RequestGrantRequest> & { evidence?: RequestGrantRequest['evidence'] } = {}) {
  const body: RequestGrantRequest = {
    evidence: { oidcToken: await t.evidence(subject) },
    task: { id: taskId('task'), kind: 'ci-job', reference: 'JOB-1', deadline: undefined },
    resource: RESOURCE,
    actions: ['read'],
    requestedTtlSeconds: 60,
    justification: 'e2e',
    idempotencyKey: '',
    heartbeatIntervalSeconds: 0,
    singleUse: false,
    breakGlass: false,
    ...overrides,
  };
  return { body, call: callUnary(t.issuance, t.issuance.requestGrant, body, { target: 'issuance' }) };
}

const grantsForTask = (id: string) => t.db.selectFrom('grants').selectAll().where('task_id', '=', id).execute();
/** The audit log's events for a task, once `count` of them have been delivered (delivery is asynchronous). */
async function auditForTask(id: string, count: number) {
  const read = () => t.db.selectFrom('audit_events').selectAll().where('task_id', '=', id).orderBy('sequence').execute();
  await eventually(async () => (await read()).length >= count, 10_000);
  return read();
}

describe('02 the grant path', () => {
  it('issues an RFC 9068 access token that any JWT library verifies through the JWKS', async () => {
    const { body, call } = await request(DEV.subject, { actions: ['read', 'write'] });
    const response = await call;
    const header = decodeProtectedHeader(response.accessToken);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(header.kid).toBeTypeOf('string');

    // jose, fetching the JWKS over HTTPS and trusting the mesh CA.
    const jwks = createRemoteJWKSet(new URL(t.mesh.jwksUrl), { [customFetch]: fetchTrustingCa(readFileSync(t.mesh.env['MAYFLY_TLS_CA_FILE']!)) });
    expect(t.mesh.jwksUrl.startsWith('https://')).toBe(true);
    const { payload } = await jwtVerify(response.accessToken, jwks, {
      issuer: t.mesh.issuer,
      audience: RESOURCE,
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({
      sub: DEV.spiffeId,
      client_id: DEV.spiffeId, // RFC 9068 §2.2: required
      aud: RESOURCE,
      scope: 'read write',
      jti: response.grant!.tokenId,
      grant_id: response.grant!.id,
      task_id: body.task!.id,
    });
    expect(response.grant).toMatchObject({ spiffeId: DEV.spiffeId, status: GrantStatus.GRANT_STATUS_ACTIVE, actions: ['read', 'write'] });
  });

  it('has a durable grant row and a durable issuance audit record before the token is returned (invariant 1)', async () => {
    const { body, call } = await request(DEV.subject);
    const response = await call;
    // Read straight after the call returned: no waiting, no polling. The durable audit record
    // is issuance's outbox, committed in the grant's own transaction.
    const [grant] = await grantsForTask(body.task!.id);
    expect(grant).toMatchObject({ id: response.grant!.id, status: 'active', spiffe_id: DEV.spiffeId, token_id: response.grant!.tokenId });
    const outbox = (await t.db.selectFrom('audit_outbox').select(['payload']).where('owner', '=', 'issuance').orderBy('position').execute())
      .map((row) => AuditEvent.decode(row.payload))
      .filter((event) => event.taskId === body.task!.id);
    // An issued grant's record stands for its request, attestation and decision too: one record.
    expect(outbox.map((e) => [e.kind, e.grantId])).toEqual([['grant.issued', response.grant!.id]]);
    // Then the audit service has it, delivered in the background.
    const audit = await auditForTask(body.task!.id, 1);
    expect(audit.map((e) => e.kind)).toEqual(['grant.issued']);
    const issued = audit.find((e) => e.kind === 'grant.issued')!;
    expect(issued).toMatchObject({ grant_id: response.grant!.id, actor: DEV.spiffeId, outcome: 'success', source: 'issuance' });
    expect(issued.detail).toMatchObject({ tokenId: response.grant!.tokenId, policyVersion: expect.any(String), evidenceDigest: expect.any(String), effect: 'allow', requestedAt: expect.any(String) });
    expect(JSON.stringify(audit)).not.toContain(response.accessToken);
    expect(JSON.stringify(audit)).not.toContain(body.evidence!.oidcToken);
  });

  it('is accepted by the edge verifier for its audience and scope, and only those', async () => {
    const response = await (await request(DEV.subject)).call;
    const verify = (audience: string, action: string) =>
      callUnary(t.edge, t.edge.verify, { accessToken: response.accessToken, audience, action, peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
    expect(await verify(RESOURCE, 'read')).toMatchObject({ verdict: Verdict.VERDICT_ACCEPTED, spiffeId: DEV.spiffeId, grantId: response.grant!.id });
    expect(await verify('pg:other-db', 'read')).toMatchObject({ verdict: Verdict.VERDICT_REJECTED, reasonCode: 'ERR_TOKEN_AUDIENCE' });
    expect(await verify(RESOURCE, 'write')).toMatchObject({ verdict: Verdict.VERDICT_REJECTED, reasonCode: 'ERR_SCOPE_NOT_GRANTED' });
  });

  it('is refused by the edge when forged, re-typed, unsigned or signed with an unknown key', async () => {
    const genuine = (await (await request(DEV.subject)).call).accessToken;
    const [h, p] = genuine.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const { privateKey: attackerKey } = generateKeyPairSync('ed25519');
    const signWith = (hdr: Record<string, unknown>, payload: string) => {
      const input = `${b64(hdr)}.${payload}`;
      return `${input}.${cryptoSign(null, Buffer.from(input), attackerKey).toString('base64url')}`;
    };
    const cases: [string, string, string][] = [
      ['attacker key, genuine kid', signWith(header, p), 'ERR_TOKEN_SIGNATURE'],
      ['unknown kid', signWith({ ...header, kid: 'attacker-kid' }, p), 'ERR_UNKNOWN_KEY'],
      ['alg none', `${b64({ ...header, alg: 'none' })}.${p}.`, 'ERR_TOKEN_SIGNATURE'],
      ['HS256 with the public key as secret', `${b64({ ...header, alg: 'HS256' })}.${p}.c2lnbmF0dXJl`, 'ERR_TOKEN_SIGNATURE'],
      ['typ JWT', signWith({ ...header, typ: 'JWT' }, p), 'ERR_TOKEN_TYPE'],
      ['crit header', signWith({ ...header, crit: ['exp'] }, p), 'ERR_TOKEN_MALFORMED'],
      ['not a JWT', 'not-a-token', 'ERR_TOKEN_MALFORMED'],
    ];
    for (const [name, token, code] of cases) {
      const verdict = await callUnary(t.edge, t.edge.verify, { accessToken: token, audience: RESOURCE, action: 'read', peerCertificate: Buffer.alloc(0) }, { target: 'edge' });
      expect(verdict, name).toMatchObject({ verdict: Verdict.VERDICT_REJECTED, reasonCode: code });
    }
  });

  it('never outlives the requested TTL, the policy maximum or the task deadline (invariant 2)', async () => {
    const lifetime = (token: string) => {
      const { iat, exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
      return { iat, exp, seconds: exp - iat };
    };
    // Requested 60 s: gets 60 s.
    expect(lifetime((await (await request(DEV.subject, { requestedTtlSeconds: 60 })).call).accessToken).seconds).toBe(60);
    // Requested 3000 s, dev policy allows 900 s.
    expect(lifetime((await (await request(DEV.subject, { requestedTtlSeconds: 3000 })).call).accessToken).seconds).toBe(900);
    // Prod read policy allows 300 s.
    expect(lifetime((await (await request(PROD.subject, { requestedTtlSeconds: 3000 })).call).accessToken).seconds).toBe(300);
    // The task must be done in 20 s: so must the credential.
    const deadline = new Date(Date.now() + 20_000);
    const bounded = await (await request(DEV.subject, { requestedTtlSeconds: 600, task: { id: taskId('deadline'), kind: 'ci-job', reference: '', deadline } })).call;
    expect(lifetime(bounded.accessToken).exp * 1000).toBeLessThanOrEqual(deadline.getTime());
    expect(bounded.grant!.expiresAt!.getTime()).toBeLessThanOrEqual(deadline.getTime());
  });

  it('refuses a policy deny with PERMISSION_DENIED and the reason, audits it, and writes no grant', async () => {
    const { body, call } = await request(PROD.subject, { actions: ['write'] });
    const error = await refusal(call);
    expect(wireStatus(error)).toBe(status.PERMISSION_DENIED);
    expect(error.code).toBe('ERR_POLICY_DENIED');
    expect(error.message).toContain('no policy permits "write" on pg:orders-db');
    expect(await grantsForTask(body.task!.id)).toEqual([]);
    const audit = await auditForTask(body.task!.id, 3);
    expect(audit.map((e) => [e.kind, e.outcome])).toEqual([
      ['grant.requested', 'success'],
      ['attestation.succeeded', 'success'],
      ['decision.made', 'denied'],
    ]);
    expect(audit[2]!.detail).toMatchObject({ effect: 'deny' });
  });

  it('never grants beyond the entitlement ceiling, even where policy would allow', async () => {
    const { body, call } = await request(DEV.subject, { actions: ['read', 'delete'] });
    const error = await refusal(call);
    expect(wireStatus(error)).toBe(status.PERMISSION_DENIED);
    expect(error.code).toBe('ERR_POLICY_DENIED');
    expect(error.message).toContain('exceeds the entitlement ceiling'); // the ceiling's refusal, not a policy's
    expect(await grantsForTask(body.task!.id)).toEqual([]);
  });

  describe('refuses bad evidence with UNAUTHENTICATED, an audit record, and nothing issued', () => {
    const cases: [string, () => Promise<string>, string][] = [
      [
        'wrong signature',
        async () => (await DevIssuer.create(ISSUER)).mint(DEV.subject, { audience: AUDIENCE }),
        'signed by a key its issuer does not publish',
      ],
      ['expired', async () => t.issuer.mint(DEV.subject, { audience: AUDIENCE, ttlSeconds: -60 }), 'expired'],
      ['unknown issuer', async () => (await DevIssuer.create('https://unknown.example')).mint(DEV.subject, { audience: AUDIENCE }), 'not a trusted issuer'],
      ['wrong audience', async () => t.issuer.mint(DEV.subject, { audience: 'someone-else' }), '"aud"'],
      ['unregistered workload', async () => t.issuer.mint(STRANGER_SUBJECT, { audience: AUDIENCE }), 'not bound to a registered workload'],
      [
        'forged with the right kid',
        async () => {
          const { privateKey } = await generateKeyPair('ES256');
          const now = Math.floor(Date.now() / 1000);
          // Low-S, so that the signature check, not the high-S rule, is what refuses it.
          return withLowS(await new SignJWT({})
            .setProtectedHeader({ alg: 'ES256', kid: t.issuer.publicJwk.kid as string })
            .setIssuer(ISSUER)
            .setAudience(AUDIENCE)
            .setSubject(DEV.subject)
            .setIssuedAt(now)
            .setExpirationTime(now + 60)
            .sign(privateKey));
        },
        'signature is invalid',
      ],
    ];
    for (const [name, evidence, reason] of cases) {
      it(name, async () => {
        const { body, call } = await request(DEV.subject, { evidence: { oidcToken: await evidence() } });
        const error = await refusal(call);
        expect(wireStatus(error)).toBe(status.UNAUTHENTICATED);
        expect(error.code).toBe('ERR_ATTESTATION_FAILED');
        expect(error.message).toContain(reason);
        expect(await grantsForTask(body.task!.id)).toEqual([]);
        const audit = await auditForTask(body.task!.id, 2);
        expect(audit.map((e) => [e.kind, e.outcome])).toEqual([
          ['grant.requested', 'success'],
          ['attestation.failed', 'failed'],
        ]);
      });
    }
  });

  it('refuses replayed evidence: evidence is single-use within its lifetime', async () => {
    const evidence = await t.evidence(DEV.subject);
    await (await request(DEV.subject, { evidence: { oidcToken: evidence } })).call;
    const { body, call } = await request(DEV.subject, { evidence: { oidcToken: evidence } });
    const error = await refusal(call);
    expect(wireStatus(error)).toBe(status.UNAUTHENTICATED);
    expect(error.code).toBe('ERR_ATTESTATION_FAILED');
    expect(error.message).toContain('already been used'); // replay, among the attestation refusals
    expect(await grantsForTask(body.task!.id)).toEqual([]);
    expect((await auditForTask(body.task!.id, 2)).map((e) => e.kind)).toEqual(['grant.requested', 'attestation.failed']);
    const use = await t.db.selectFrom('evidence_uses').selectAll().where('subject', '=', DEV.subject).orderBy('used_at', 'desc').executeTakeFirstOrThrow();
    expect(use.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(use)).not.toContain(evidence);
  });

  it('refuses malformed requests with INVALID_ARGUMENT naming the field, and writes nothing', async () => {
    const before = await t.db.selectFrom('audit_outbox').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    const cases: [Partial<RequestGrantRequest>, string][] = [
      [{ task: { id: '', kind: 'ci-job', reference: '', deadline: undefined } }, 'task.id'],
      [{ resource: "pg:x'; DROP TABLE grants;--" }, 'resource'],
      [{ actions: ['read', 'READ'] }, 'actions[1]'],
      [{ requestedTtlSeconds: 999_999 }, 'requested_ttl_seconds'],
    ];
    for (const [overrides, field] of cases) {
      const error = await refusal((await request(DEV.subject, overrides)).call);
      expect(wireStatus(error), field).toBe(status.INVALID_ARGUMENT);
      expect(error.field, field).toBe(field);
      expect(error.message.startsWith(`${field}:`), error.message).toBe(true);
    }
    const after = await t.db.selectFrom('audit_outbox').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
    expect(await t.db.selectFrom('grants').select('id').where('resource', 'like', '%DROP%').execute()).toEqual([]);
  });

  it('refuses a task whose deadline has passed with FAILED_PRECONDITION', async () => {
    const error = await refusal(
      (await request(DEV.subject, { task: { id: taskId('late'), kind: 'ci-job', reference: '', deadline: new Date(Date.now() - 1000) } })).call,
    );
    expect(wireStatus(error)).toBe(status.FAILED_PRECONDITION);
    expect(error.code).toBe('ERR_TASK_DEADLINE_PASSED');
  });
});
