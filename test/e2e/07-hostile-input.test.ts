import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { join } from 'node:path';
import { ChannelCredentials, Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { SignJWT, generateKeyPair } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, channelCredentials, fromServiceError } from '@mayfly/grpc';
import { DevIssuer, ecdsaTwin as highSTwin } from '@mayfly/mesh';
import {
  AuditServiceClient,
  DecideRequest,
  DecisionServiceClient,
  GrantStatus,
  Verdict,
  type RequestGrantRequest,
  ListEventsRequest,
} from '@mayfly/proto';
import { AUDIENCE, DEV, ISSUER, RESOURCE, STRANGER_SUBJECT, eventually, refusal, startTestMesh, wireStatus, type TestMesh } from '../support/test-mesh.js';

// Step 7: hostile input across the services. Every case gets its exact gRPC status, writes no
// grant and no revocation, and where an authentication failed, leaves an audit record.

let t: TestMesh;
let decisionAsIssuance: DecisionServiceClient;
let auditAsIssuance: AuditServiceClient;
let activeGrant: { id: string; token: string };
let otherGrant: { id: string; token: string };
/** Evidence that has already got a grant: every respelling of it is a replay. */
let usedEvidence: string;

beforeAll(async () => {
  t = await startTestMesh('hostile');
  const asIssuance = t.credentialsAs('issuance');
  decisionAsIssuance = new DecisionServiceClient(t.mesh.addresses.decision, asIssuance);
  auditAsIssuance = new AuditServiceClient(t.mesh.addresses.audit, asIssuance);
  const a = await t.client(DEV.subject).acquire({ task: { id: 'hostile-active', kind: 'ci-job', reference: '', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
  const b = await t.client(DEV.subject).acquire({ task: { id: 'hostile-other', kind: 'ci-job', reference: '', deadline: undefined }, resource: RESOURCE, actions: ['read'] });
  activeGrant = { id: a.grant.id, token: a.accessToken };
  usedEvidence = await t.evidence(DEV.subject);
  await requestGrant(grantRequest({}, usedEvidence));
  otherGrant = { id: b.grant.id, token: b.accessToken };
});
afterAll(async () => {
  decisionAsIssuance?.close();
  auditAsIssuance?.close();
  await t?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const SQL = "x'; DROP TABLE grants; --";
let n = 0;
const taskId = (label: string) => `hostile-${label}-${++n}`;

/** Evidence signed by a key the trusted issuer does not publish, with any header. */
async function attackerEvidence(header: Record<string, unknown>, claims: Record<string, unknown> = {}): Promise<string> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const input = `${b64({ alg: 'ES256', ...header })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: DEV.subject, iat: now(), exp: now() + 60, ...claims })}`;
  return `${input}.${cryptoSign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same signature bytes, spelled with different unused low bits in the last character. */
function respellLastCharacter(token: string, bits: number): string {
  const last = token.at(-1)!;
  return `${token.slice(0, -1)}${BASE64URL_ALPHABET[BASE64URL_ALPHABET.indexOf(last) ^ bits]}`;
}

function grantRequest(overrides: Partial<RequestGrantRequest>, evidence: string, id = taskId('req')): RequestGrantRequest {
  return {
    evidence: { oidcToken: evidence },
    task: { id, kind: 'ci-job', reference: 'JOB-1', deadline: undefined },
    resource: RESOURCE,
    actions: ['read'],
    requestedTtlSeconds: 60,
    justification: '',
    idempotencyKey: '',
    heartbeatIntervalSeconds: 0,
    singleUse: false,
    breakGlass: false,
    ...overrides,
  };
}

interface HostileCase {
  readonly name: string;
  readonly status: number;
  /** For UNAUTHENTICATED grant requests: the task whose attestation failure must be audited. */
  readonly auditedTask?: string;
  run(): Promise<unknown>;
}

function requestGrant(body: RequestGrantRequest) {
  return callUnary(t.issuance, t.issuance.requestGrant, body, { target: 'issuance' });
}

/** A grant request with bad evidence: UNAUTHENTICATED, and its attestation failure audited. */
function badEvidence(name: string, evidence: () => Promise<string>): HostileCase {
  const id = taskId('evidence');
  return { name: `RequestGrant: ${name}`, status: status.UNAUTHENTICATED, auditedTask: id, run: async () => requestGrant(grantRequest({}, await evidence(), id)) };
}

function invalidGrant(name: string, overrides: Partial<RequestGrantRequest>): HostileCase {
  return { name: `RequestGrant: ${name}`, status: status.INVALID_ARGUMENT, run: async () => requestGrant(grantRequest(overrides, await t.evidence(DEV.subject))) };
}

/** Raw bytes to a method: the transport-level view of a malformed message. */
function rawCall(service: 'issuance' | 'revocation', path: string, bytes: Buffer): Promise<Buffer> {
  const client = new Client(t.mesh.addresses[service], channelCredentials(service));
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new Metadata(), { deadline: Date.now() + 5_000 }, (error: ServiceError | null, value?: Buffer) => {
      client.close();
      if (error) reject(fromServiceError(error, service));
      else resolve(value!);
    });
  });
}

const decide = (overrides: Partial<DecideRequest>) =>
  callUnary(decisionAsIssuance, decisionAsIssuance.decide, DecideRequest.fromPartial({
    workload: { spiffeId: DEV.spiffeId, environment: 'dev', ceiling: [{ resource: RESOURCE, actions: ['read'] }] },
    task: { id: 'hostile-decide', kind: 'ci-job' },
    resource: RESOURCE,
    actions: ['read'],
    ...overrides,
  }));
const revoke = (grantId: string, reason = 'hostile test', finalStatus = GrantStatus.GRANT_STATUS_UNSPECIFIED) =>
  callUnary(t.revocation, t.revocation.revoke, { grantId, reason, requestedBy: 'hostile-suite', finalStatus });
const complete = (grantId: string, accessToken: string) => callUnary(t.issuance, t.issuance.completeGrant, { grantId, accessToken, outcome: '' });
const auditEvent = (overrides: Record<string, unknown>) => ({
  id: '6f1c1d59-3b1a-4c1e-9a55-0d8f2a1b7c01',
  occurredAt: new Date(),
  kind: 'test.event',
  actor: 'hostile',
  grantId: '',
  taskId: 'hostile',
  outcome: 1,
  detail: {},
  sequence: 0,
  source: 'hostile',
  ...overrides,
});
const record = (events: ReturnType<typeof auditEvent>[]) => callUnary(auditAsIssuance, auditAsIssuance.record, { events } as never);

const CASES: HostileCase[] = [
  // Evidence: forged, expired, not yet valid, wrong audience and issuer, alg none, algorithm
  // confusion, kid injection, crit, garbage, replay, unregistered.
  badEvidence('forged signature with the genuine kid', async () => attackerEvidence({ kid: t.issuer.publicJwk.kid })),
  badEvidence('expired', async () => t.issuer.mint(DEV.subject, { audience: AUDIENCE, ttlSeconds: -30 })),
  badEvidence('not yet valid (nbf in 10 minutes)', async () => t.issuer.mint(DEV.subject, { audience: AUDIENCE, claims: { nbf: now() + 600 } })),
  badEvidence('issued in the future (iat in 10 minutes)', async () => t.issuer.mint(DEV.subject, { audience: AUDIENCE, claims: { iat: now() + 600 } })),
  badEvidence('wrong audience', async () => t.issuer.mint(DEV.subject, { audience: 'another-service' })),
  badEvidence('unknown issuer', async () => (await DevIssuer.create('https://evil.example')).mint(DEV.subject, { audience: AUDIENCE })),
  badEvidence('alg none', async () => `${b64({ alg: 'none' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: DEV.subject, exp: now() + 60 })}.`),
  badEvidence('HS256 keyed with the issuer public key (algorithm confusion)', async () =>
    new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: t.issuer.publicJwk.kid as string }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(DEV.subject).setExpirationTime('1m')
      .sign(new TextEncoder().encode(JSON.stringify(t.issuer.publicJwk)))),
  badEvidence('kid injection: path traversal', async () => attackerEvidence({ kid: '../../../../etc/passwd' })),
  badEvidence("kid injection: SQL", async () => attackerEvidence({ kid: "' OR '1'='1" })),
  badEvidence('crit header', async () => attackerEvidence({ kid: t.issuer.publicJwk.kid, crit: ['x-mayfly'], 'x-mayfly': true })),
  badEvidence('garbage', async () => 'not.a.jwt'),
  // Replay by respelling: the same signed content written another way is the same evidence.
  badEvidence('replay with the unused bits of the signature\'s last character changed', async () => respellLastCharacter(usedEvidence, 1)),
  badEvidence('replay with other unused bits of the last character changed', async () => respellLastCharacter(usedEvidence, 3)),
  badEvidence('replay as the high-S twin signature (r, n - s)', async () => highSTwin(usedEvidence)),
  badEvidence('replay with base64 padding added to the signature', async () => `${usedEvidence}==`),
  badEvidence('replay, verbatim', async () => usedEvidence),
  badEvidence('subject with a NUL byte (signed by the trusted issuer)', async () => t.issuer.mint('system:serviceaccount:ci:\u0000builder', { audience: AUDIENCE })),
  badEvidence('valid for 25 hours (longer than the issuer allows)', async () => t.issuer.mint(DEV.subject, { audience: AUDIENCE, ttlSeconds: 25 * 3600 })),
  badEvidence('issuer of 4 KiB', async () => attackerEvidence({}, { iss: `https://${'i'.repeat(4096)}` })),
  badEvidence('a workload nobody registered', async () => t.issuer.mint(STRANGER_SUBJECT, { audience: AUDIENCE })),
  badEvidence('subject with SQL metacharacters', async () => t.issuer.mint(SQL, { audience: AUDIENCE })),
  badEvidence('ES256 signature from a freshly generated key, no kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    return new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(DEV.subject).setExpirationTime('1m').sign(privateKey);
  }),
  // Fields: grammar, SQL metacharacters, sizes, enums, required fields.
  invalidGrant('task.id with SQL metacharacters', { task: { id: SQL, kind: 'ci-job', reference: '', deadline: undefined } }),
  invalidGrant('task.id too long', { task: { id: 'a'.repeat(200), kind: 'ci-job', reference: '', deadline: undefined } }),
  invalidGrant('task.kind with control characters', { task: { id: taskId('k'), kind: 'ci\u0000job', reference: '', deadline: undefined } }),
  invalidGrant('task.reference too long', { task: { id: taskId('r'), kind: 'ci-job', reference: 'r'.repeat(300), deadline: undefined } }),
  invalidGrant('task missing', { task: undefined }),
  invalidGrant('resource with SQL metacharacters', { resource: `pg:${SQL}` }),
  invalidGrant('resource without a scheme', { resource: 'orders-db' }),
  invalidGrant('resource too long', { resource: `pg:${'a'.repeat(300)}` }),
  invalidGrant('action with SQL metacharacters', { actions: ["read' OR '1'='1"] }),
  invalidGrant('no actions', { actions: [] }),
  invalidGrant('too many actions', { actions: Array.from({ length: 33 }, (_, i) => `act${i}`) }),
  invalidGrant('duplicate actions', { actions: ['read', 'read'] }),
  invalidGrant('justification too long', { justification: 'j'.repeat(2000) }),
  invalidGrant('requested TTL beyond the maximum', { requestedTtlSeconds: 10_000_000 }),
  { name: 'RequestGrant: neither evidence nor a session certificate', status: status.UNAUTHENTICATED, run: async () => requestGrant(grantRequest({ evidence: undefined }, '')) },
  invalidGrant('evidence larger than 16 KiB', { evidence: { oidcToken: 'e'.repeat(17_000) } }),
  { name: 'RequestGrant: message larger than 1 MiB', status: status.RESOURCE_EXHAUSTED, run: async () => requestGrant(grantRequest({ justification: 'x'.repeat(1_100_000) }, await t.evidence(DEV.subject))) },
  { name: 'RequestGrant: bytes that are not a protobuf message', status: status.INVALID_ARGUMENT, run: () => rawCall('issuance', '/mayfly.v1.IssuanceService/RequestGrant', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])) },
  // CompleteGrant: the holder must present the grant's own, genuine token.
  { name: 'CompleteGrant: grant_id with SQL metacharacters', status: status.INVALID_ARGUMENT, run: () => complete(SQL, activeGrant.token) },
  { name: "CompleteGrant: another grant's token", status: status.UNAUTHENTICATED, run: () => complete(activeGrant.id, otherGrant.token) },
  {
    name: 'CompleteGrant: token signed by an attacker',
    status: status.UNAUTHENTICATED,
    run: () => {
      const [h, p] = activeGrant.token.split('.');
      const { privateKey } = generateKeyPairSync('ed25519');
      return complete(activeGrant.id, `${h}.${p}.${cryptoSign(null, Buffer.from(`${h}.${p}`), privateKey).toString('base64url')}`);
    },
  },
  { name: 'CompleteGrant: token larger than 16 KiB', status: status.INVALID_ARGUMENT, run: () => complete(activeGrant.id, 't'.repeat(17_000)) },
  // Revoke (operator): identifiers, reasons, enums.
  { name: 'Revoke: grant_id with SQL metacharacters', status: status.INVALID_ARGUMENT, run: () => revoke(SQL) },
  { name: 'Revoke: final status outside the enum', status: status.INVALID_ARGUMENT, run: () => revoke(activeGrant.id, 'x', 99 as GrantStatus) },
  { name: 'Revoke: final status ACTIVE', status: status.INVALID_ARGUMENT, run: () => revoke(activeGrant.id, 'x', GrantStatus.GRANT_STATUS_ACTIVE) },
  { name: 'Revoke: a grant that does not exist', status: status.NOT_FOUND, run: () => revoke('00000000-0000-4000-8000-000000000000') },
  { name: 'Revoke: bytes that are not a protobuf message', status: status.INVALID_ARGUMENT, run: () => rawCall('revocation', '/mayfly.v1.RevocationService/Revoke', Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f])) },
  // Decide (as issuance): the decision service validates on its own.
  { name: 'Decide: malformed SPIFFE ID', status: status.INVALID_ARGUMENT, run: () => decide({ workload: { spiffeId: "spiffe://x/'; DROP", ownerTeam: '', ownerContact: '', environment: 'dev', riskTier: 1, shared: false, ceiling: [], breakGlassAllowed: false } }) },
  { name: 'Decide: resource with SQL metacharacters', status: status.INVALID_ARGUMENT, run: () => decide({ resource: SQL }) },
  { name: 'Decide: workload missing', status: status.INVALID_ARGUMENT, run: () => decide({ workload: undefined }) },
  // Audit (as issuance): nothing malformed enters the log.
  { name: 'Record: event id not a UUID', status: status.INVALID_ARGUMENT, run: () => record([auditEvent({ id: SQL })]) },
  { name: 'Record: kind with SQL metacharacters', status: status.INVALID_ARGUMENT, run: () => record([auditEvent({ kind: SQL })]) },
  { name: 'Record: grant_id with SQL metacharacters', status: status.INVALID_ARGUMENT, run: () => record([auditEvent({ grantId: SQL })]) },
  { name: 'Record: more than 500 events', status: status.INVALID_ARGUMENT, run: () => record(Array.from({ length: 501 }, () => auditEvent({}))) },
  { name: 'Record: no events', status: status.INVALID_ARGUMENT, run: () => record([]) },
  { name: 'ListEvents: limit above 1000', status: status.INVALID_ARGUMENT, run: () => callUnary(t.audit, t.audit.listEvents, ListEventsRequest.fromPartial({ limit: 5000 })) },
  // Edge verifier.
  { name: 'Verify: empty token', status: status.INVALID_ARGUMENT, run: () => callUnary(t.edge, t.edge.verify, { accessToken: '', audience: RESOURCE, action: '', peerCertificate: Buffer.alloc(0) }) },
  { name: 'Verify: audience with SQL metacharacters', status: status.INVALID_ARGUMENT, run: () => callUnary(t.edge, t.edge.verify, { accessToken: activeGrant.token, audience: SQL, action: '', peerCertificate: Buffer.alloc(0) }) },
  // Roles: a service certificate calling outside its role.
  {
    name: 'Decide called with the revocation service certificate',
    status: status.PERMISSION_DENIED,
    run: () => {
      const client = new DecisionServiceClient(t.mesh.addresses.decision, t.credentialsAs('revocation'));
      return callUnary(client, client.decide, DecideRequest.fromPartial({ resource: RESOURCE })).finally(() => client.close());
    },
  },
  {
    name: 'Decide called in plaintext',
    status: status.UNAVAILABLE,
    run: () => {
      const client = new DecisionServiceClient(t.mesh.addresses.decision, ChannelCredentials.createInsecure());
      return callUnary(client, client.decide, DecideRequest.fromPartial({ resource: RESOURCE }), { timeoutMs: 2_000 }).finally(() => client.close());
    },
  },
];

async function snapshot() {
  const count = async (table: 'grants' | 'revocations') =>
    Number((await t.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  const active = await t.db.selectFrom('grants').select('id').where('status', '=', 'active').orderBy('id').execute();
  return { grants: await count('grants'), revocations: await count('revocations'), active: active.map((g) => g.id).join(',') };
}

describe('07 hostile input', () => {
  it(`has at least 40 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  for (const hostile of CASES) {
    it(hostile.name, async () => {
      const before = await snapshot();
      const error = await refusal(hostile.run());
      expect(wireStatus(error), error.message).toBe(hostile.status);
      expect(error.message.length).toBeGreaterThan(10);
      expect(await snapshot()).toEqual(before); // nothing issued, revoked or ended
      if (hostile.auditedTask) {
        const read = () => t.db.selectFrom('audit_events').select(['kind', 'outcome']).where('task_id', '=', hostile.auditedTask!).orderBy('sequence').execute();
        await eventually(async () => (await read()).length >= 2); // delivered in the background
        const audit = await read();
        expect(audit).toEqual([
          { kind: 'grant.requested', outcome: 'success' },
          { kind: 'attestation.failed', outcome: 'failed' },
        ]);
      }
    });
  }

  it('free-text fields carry SQL metacharacters verbatim and harmlessly (parameterised statements)', async () => {
    const id = taskId('verbatim');
    const response = await requestGrant(grantRequest({ justification: SQL, task: { id, kind: 'ci-job', reference: "1' OR '1'='1", deadline: undefined } }, await t.evidence(DEV.subject), id));
    const row = await t.db.selectFrom('grants').select(['task_reference']).where('id', '=', response.grant!.id).executeTakeFirstOrThrow();
    expect(row.task_reference).toBe("1' OR '1'='1");
    await eventually(async () => (await t.db.selectFrom('audit_events').select('id').where('task_id', '=', id).where('kind', '=', 'grant.issued').execute()).length === 1);
    const issued = await t.db.selectFrom('audit_events').select('detail').where('task_id', '=', id).where('kind', '=', 'grant.issued').executeTakeFirstOrThrow();
    expect(issued.detail['justification']).toBe(SQL);
    expect(issued.detail['taskReference']).toBe("1' OR '1'='1");
    await expect(sql`SELECT count(*) FROM grants`.execute(t.db)).resolves.toBeDefined();
  });

  it('tokens refused by the edge leave verdicts, not errors', async () => {
    const verdict = await callUnary(t.edge, t.edge.verify, { accessToken: otherGrant.token, audience: 'pg:another-db', action: 'read', peerCertificate: Buffer.alloc(0) });
    expect(verdict).toMatchObject({ verdict: Verdict.VERDICT_REJECTED, reasonCode: 'ERR_TOKEN_AUDIENCE' });
  });
});
