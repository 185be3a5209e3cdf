import { createHash } from 'node:crypto';
import { Client, status, type ServiceError } from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkloadSession } from '@mayfly/client';
import { callUnary } from '@mayfly/grpc';
import { RequestGrantRequest, type IssuanceServiceClient, type RequestGrantStreamResponse } from '@mayfly/proto';
import { DEV, RESOURCE, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Issue 24: RequestGrant as messages of one stream, against a real mesh. Each message is one
// grant with everything a call has — the session's identity, its own decision, commit and
// audit, its own refusal — and a refusal is an answer that leaves the stream open.

let t: TestMesh;
let session: WorkloadSession;

beforeAll(async () => {
  t = await startTestMesh('grant_stream');
  session = await WorkloadSession.start({ issuanceAddress: t.mesh.addresses.issuance, evidence: { oidcToken: await t.evidence(DEV.subject) }, timeoutMs: 10_000, bootstrap: t.issuance });
}, 60_000);

afterAll(async () => {
  session?.close(true);
  await t?.close();
});

let n = 0;
const ask = (overrides: Partial<RequestGrantRequest> = {}): RequestGrantRequest =>
  RequestGrantRequest.fromPartial({ task: { id: `stream-${++n}-${Date.now()}`, kind: 'ci-job', reference: 'JOB-49' }, resource: RESOURCE, actions: ['read'], ...overrides });

/** Opens a raw RequestGrantStream on `client`; `send` writes a message, `answer(id)` awaits its answer. */
function openStream(client: IssuanceServiceClient) {
  const call = client.requestGrantStream();
  const answers = new Map<number, RequestGrantStreamResponse>();
  const waiting = new Map<number, (answer: RequestGrantStreamResponse) => void>();
  call.on('data', (answer: RequestGrantStreamResponse) => {
    answers.set(answer.id, answer);
    waiting.get(answer.id)?.(answer);
  });
  const ended = new Promise<{ code: number }>((resolve) => {
    call.on('error', () => undefined);
    call.on('status', (s: { code: number }) => resolve(s));
  });
  return {
    send: (id: number, request: RequestGrantRequest, timeoutMs = 10_000) => call.write({ id, request, traceparent: '', timeoutMs }),
    answer: (id: number) => answers.get(id) ?? new Promise<RequestGrantStreamResponse>((resolve) => waiting.set(id, resolve)),
    end: () => call.end(),
    ended,
  };
}

const auditKinds = async (taskId: string) =>
  (await t.db.selectFrom('audit_events').select('kind').where('task_id', '=', taskId).orderBy('sequence').execute()).map((event) => event.kind);

describe('49 RequestGrantStream', () => {
  it('answers each message by its id: grants bound to the session, and refusals that leave the stream open', async () => {
    const stream = openStream(session.client);
    const good = ask();
    const outsideCeiling = ask({ actions: ['delete'] });
    const noTask = ask({ task: undefined });
    stream.send(1, good);
    stream.send(2, outsideCeiling);
    stream.send(3, noTask);
    const [first, denied, invalid] = await Promise.all([stream.answer(1), stream.answer(2), stream.answer(3)]);

    expect(first.error).toBeUndefined();
    expect(first.grant?.grant?.spiffeId).toBe(DEV.spiffeId);
    const claims = decodeJwt(first.grant!.accessToken) as { cnf?: Record<string, string>; task_id?: string };
    expect(claims.task_id).toBe(good.task!.id);
    // Bound to the session's certificate, as a grant by call within the session is.
    expect(claims.cnf?.['x5t#S256']).toBe(createHash('sha256').update(session.certificate).digest('base64url'));

    // The same refusals, word for word, that RequestGrant calls get for the same requests.
    const deniedByCall = ask({ actions: ['delete'] });
    for (const [answer, request] of [
      [denied, deniedByCall],
      [invalid, ask({ task: undefined })],
    ] as const) {
      const byCall = await refusal(callUnary(session.client, session.client.requestGrant, request));
      expect(answer.grant).toBeUndefined();
      expect(answer.error).toEqual({ status: wireStatus(byCall), code: byCall.code, message: byCall.message, field: byCall.field ?? '', retryAfterMs: 0 });
    }
    expect(denied.error?.code).toBe('ERR_POLICY_DENIED');
    expect(denied.error?.status).toBe(status.PERMISSION_DENIED);
    expect(invalid.error?.code).toBe('ERR_INVALID_ARGUMENT');

    // The refusals did not end the stream: it answers the next message, then ends cleanly.
    stream.send(4, ask());
    expect((await stream.answer(4)).grant?.accessToken).toBeTruthy();
    stream.end();
    expect((await stream.ended).code).toBe(status.OK);

    // Each message was audited as the same grant or refusal by call is (delivered in the background).
    const grantedByCall = ask();
    await callUnary(session.client, session.client.requestGrant, grantedByCall);
    for (const [byStream, byCall] of [
      [good, grantedByCall],
      [outsideCeiling, deniedByCall],
    ] as const) {
      await eventually(async () => (await auditKinds(byStream.task!.id)).length > 0 && (await auditKinds(byCall.task!.id)).length > 0, 10_000, 50);
      expect(await auditKinds(byStream.task!.id)).toEqual(await auditKinds(byCall.task!.id));
    }
    expect(await auditKinds(good.task!.id)).toContain('grant.issued');
  });

  it('one idempotency key, one grant: over the stream twice and by call', async () => {
    const request = ask({ idempotencyKey: `stream-key-${Date.now()}` });
    const once = await session.requestGrant(request, 10_000);
    const again = await session.requestGrant(request, 10_000);
    const byCall = await callUnary(session.client, session.client.requestGrant, request);
    expect(again.grant?.id).toBe(once.grant?.id);
    expect(byCall.grant?.id).toBe(once.grant?.id);
    expect(again.accessToken).toBe(once.accessToken);
    const rows = await t.db.selectFrom('grants').select('id').where('task_id', '=', request.task!.id).execute();
    expect(rows).toHaveLength(1);
  });

  it('without a session certificate a message needs evidence, as a call does', async () => {
    const stream = openStream(t.issuance);
    const bare = ask();
    stream.send(1, bare);
    const withoutEvidence = await stream.answer(1);
    const byCall = await refusal(callUnary(t.issuance, t.issuance.requestGrant, ask()));
    expect(withoutEvidence.error).toMatchObject({ code: byCall.code, status: wireStatus(byCall) });

    stream.send(2, ask({ evidence: { oidcToken: await t.evidence(DEV.subject) } }));
    const withEvidence = await stream.answer(2);
    expect(withEvidence.grant?.grant?.spiffeId).toBe(DEV.spiffeId);
    expect((decodeJwt(withEvidence.grant!.accessToken) as { cnf?: unknown }).cnf).toBeUndefined();
    stream.end();
    await stream.ended;
  });

  it('a message that is not a RequestGrantStreamRequest ends the stream with INVALID_ARGUMENT', async () => {
    const raw = new Client(t.mesh.addresses.issuance, t.credentialsAs('operator'));
    try {
      const call = raw.makeBidiStreamRequest(
        '/mayfly.v1.IssuanceService/RequestGrantStream',
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
      );
      const ended = new Promise<ServiceError>((resolve) => call.on('error', resolve));
      call.write(Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]));
      const error = await ended;
      expect(error.code).toBe(status.INVALID_ARGUMENT);
      expect(error.details).toMatch(/RequestGrantStream/);
    } finally {
      raw.close();
    }
  });
});
