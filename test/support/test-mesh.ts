import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connectBus, deleteRevocationStream } from '@mayfly/bus';
import { MayflyClient } from '@mayfly/client';
import { MayflyError } from '@mayfly/core';
import { sql } from 'kysely';
import { bindWorkload, createDatabase, dropServiceRoles, upsertTrustedIssuer, upsertWorkload, migrateToLatest, type Database, type Kysely } from '@mayfly/db';
import { createClient } from '@mayfly/grpc';
import { DevIssuer, approverEnv, devPeopleIssuer, ensureDatabase, personToken, startMesh, type Mesh } from '@mayfly/mesh';
import { ensureDevPki } from '@mayfly/pki';
import {
  AttestationServiceClient,
  AuditServiceClient,
  DecisionServiceClient,
  EdgeVerifierServiceClient,
  IssuanceServiceClient,
  RevocationServiceClient,
} from '@mayfly/proto';

/** The cast every end-to-end suite works with. */
export const ISSUER = 'https://issuer.e2e.mayfly.test';
export const AUDIENCE = 'mayfly-e2e';
export const RESOURCE = 'pg:orders-db';
export const DEV = {
  subject: 'system:serviceaccount:ci:builder',
  spiffeId: 'spiffe://e2e.mayfly.test/ci/builder',
} as const;
export const PROD = {
  subject: 'system:serviceaccount:prod:reporter',
  spiffeId: 'spiffe://e2e.mayfly.test/prod/reporter',
} as const;
export const AGENT = {
  subject: 'system:serviceaccount:agents:looping-agent',
  spiffeId: 'spiffe://e2e.mayfly.test/agents/looping-agent',
} as const;
export const STRANGER_SUBJECT = 'system:serviceaccount:ci:stranger';

export interface TestMesh {
  readonly mesh: Mesh;
  readonly db: Kysely<Database>;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /** The revocation stream, and where its signing keys are published (spread it into EdgeVerifier options). */
  readonly stream: { stream: string; subjectPrefix: string; revocationKeysUrl: string };
  readonly issuer: DevIssuer;
  readonly issuance: IssuanceServiceClient;
  readonly revocation: RevocationServiceClient;
  readonly audit: AuditServiceClient;
  readonly edge: EdgeVerifierServiceClient;
  readonly attestation: AttestationServiceClient;
  readonly decision: DecisionServiceClient;
  /** The directory of the mesh's development CA and certificates. */
  readonly pkiDir: string;
  /** TLS credentials presenting one of the mesh's identities (a service name or "operator"). */
  credentialsAs(identity: string, options?: { pkiDir?: string }): ChannelCredentials;
  /** Where the services' combined log is written. */
  readonly logFile: string;
  /** Every line the services have printed so far, prefixed with the service name. */
  readonly logLines: readonly string[];
  evidence(subject: string, options?: { ttlSeconds?: number }): Promise<string>;
  /**
   * A workload client whose evidence names `subject`. Without `session: true` it sends fresh
   * evidence with every grant (unbound tokens, as the suites before sessions expect).
   */
  client(subject: string, options?: { session?: boolean }): MayflyClient;
  /** An OIDC ID token for a person from the approvers' identity provider the mesh trusts. */
  person(email: string, groups: readonly string[], options?: { ttlSeconds?: number }): Promise<string>;
  /** The approvers' identity provider (to mint tokens it would never issue, in hostile tests). */
  readonly people: DevIssuer;
  close(): Promise<void>;
}

const ADMIN_URL = process.env['MAYFLY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

/**
 * Starts a mesh of real service processes for one suite, on free ports, with its own database,
 * its own JetStream stream and subject prefix, and a real HTTP JWKS for the workload issuer.
 * Everything is removed by close().
 */
export async function startTestMesh(suite: string, options: { env?: Record<string, string> } = {}): Promise<TestMesh> {
  const id = `${suite}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const databaseUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/mayfly_e2e_${id}` }).toString();
  await ensureDatabase(databaseUrl);
  const db = createDatabase({ url: databaseUrl, maxConnections: 4 });
  await migrateToLatest(db, databaseUrl);

  const stateDir = mkdtempSync(join(tmpdir(), 'mayfly-e2e-'));
  const pkiDir = join(stateDir, 'pki');
  // The workload issuer serves its JWKS over https with a certificate from the test CA, which
  // attestation is told to trust (MAYFLY_ISSUER_CA_FILE): http JWKS URLs are refused.
  const pki = await ensureDevPki(pkiDir, 'mayfly.local', ['workload-issuer']);
  const issuer = await DevIssuer.create(ISSUER);
  const people = await devPeopleIssuer();
  const jwks = await issuer.serveJwks(0, { cert: readFileSync(pki.identity('workload-issuer').certFile), key: readFileSync(pki.identity('workload-issuer').keyFile) });
  await upsertTrustedIssuer(db, { issuer: ISSUER, audiences: [AUDIENCE], jwksUri: jwks.url, algorithms: ['ES256'] });
  await upsertWorkload(db, {
    spiffeId: DEV.spiffeId,
    ownerTeam: 'ci',
    ownerContact: 'ci@example.com',
    environment: 'dev',
    riskTier: 'low',
    ceiling: [{ resource: RESOURCE, actions: ['read', 'write'] }],
  });
  await upsertWorkload(db, {
    spiffeId: PROD.spiffeId,
    ownerTeam: 'reporting',
    ownerContact: 'reporting@example.com',
    environment: 'prod',
    riskTier: 'medium',
    ceiling: [{ resource: RESOURCE, actions: ['read', 'write', 'delete'] }],
    // The suites' break-glass cases use it; DEV and AGENT are left without (the default).
    breakGlassAllowed: true,
  });
  await upsertWorkload(db, {
    spiffeId: AGENT.spiffeId,
    ownerTeam: 'ai-platform',
    ownerContact: 'ai-platform@example.com',
    environment: 'dev',
    riskTier: 'low',
    ceiling: [{ resource: RESOURCE, actions: ['read'] }],
  });
  await bindWorkload(db, { issuer: ISSUER, subject: AGENT.subject, spiffeId: AGENT.spiffeId });
  await bindWorkload(db, { issuer: ISSUER, subject: DEV.subject, spiffeId: DEV.spiffeId });
  await bindWorkload(db, { issuer: ISSUER, subject: PROD.subject, spiffeId: PROD.spiffeId });

  const stream = { stream: `MAYFLY_E2E_${id.toUpperCase()}`, subjectPrefix: `mayfly.e2e.${id}` };
  // Each suite's services get database roles of their own, dropped with the database.
  const rolePrefix = `mayfly_e2e_${id}_`;
  const logDir = join(process.cwd(), '.mayfly', 'test-logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${suite}.log`);
  const lines: string[] = [];
  const flush = (): void => writeFileSync(logFile, lines.join('\n'));

  let mesh: Mesh;
  try {
    mesh = await startMesh({
      databaseUrl,
      natsUrl: NATS_URL,
      ports: 'free',
      revocationStream: stream,
      auditHeadStream: { stream: `${stream.stream}_AUDIT_HEAD`, subject: `${stream.subjectPrefix}-audit.head` },
      databaseRolePrefix: rolePrefix,
      signingKeyringDir: join(stateDir, 'signing-keys'),
      auditCheckpointKeyFile: join(stateDir, 'audit-checkpoint-key.jwk'),
      revocationFeedKeyFile: join(stateDir, 'revocation-feed-key.jwk'),
      pkiDir,
      env: { MAYFLY_LOG_LEVEL: 'info', MAYFLY_DRAIN_SECONDS: '5', MAYFLY_ISSUER_CA_FILE: pki.caFile, ...approverEnv(people), ...options.env },
      onLine: (service, line) => lines.push(`${service.padEnd(13)} ${line}`),
    });
  } catch (error) {
    flush();
    await jwks.close();
    await db.destroy();
    throw error;
  }

  // This test process acts as the mesh's operator (and, through clients, as its workloads).
  Object.assign(process.env, mesh.operatorEnv);
  const clients = {
    issuance: createClient(IssuanceServiceClient, mesh.addresses.issuance, 'issuance'),
    revocation: createClient(RevocationServiceClient, mesh.addresses.revocation, 'revocation'),
    audit: createClient(AuditServiceClient, mesh.addresses.audit, 'audit'),
    edge: createClient(EdgeVerifierServiceClient, mesh.addresses['edge-verifier'], 'edge-verifier'),
    attestation: createClient(AttestationServiceClient, mesh.addresses.attestation, 'attestation'),
    decision: createClient(DecisionServiceClient, mesh.addresses.decision, 'decision'),
  };
  const workloadClients: MayflyClient[] = [];

  return {
    mesh,
    db,
    databaseUrl,
    natsUrl: NATS_URL,
    stream: { ...stream, revocationKeysUrl: mesh.env['MAYFLY_REVOCATION_KEYS_URL']! },
    issuer,
    ...clients,
    logFile,
    pkiDir: join(stateDir, 'pki'),
    credentialsAs: (identity, credentialOptions) => {
      const dir = credentialOptions?.pkiDir ?? join(stateDir, 'pki');
      return ChannelCredentials.createSsl(
        readFileSync(join(stateDir, 'pki', 'ca.pem')),
        readFileSync(join(dir, `${identity}-key.pem`)),
        readFileSync(join(dir, `${identity}.pem`)),
      );
    },
    logLines: lines,
    evidence: (subject, evidenceOptions) => issuer.mint(subject, { audience: AUDIENCE, ttlSeconds: evidenceOptions?.ttlSeconds ?? 120 }),
    people,
    person: (email, groups, personOptions) => personToken(people, email, groups, personOptions?.ttlSeconds),
    client: (subject, clientOptions) => {
      const client = new MayflyClient({
        issuanceAddress: mesh.addresses.issuance,
        evidence: () => issuer.mint(subject, { audience: AUDIENCE }),
        session: clientOptions?.session ?? false,
      });
      workloadClients.push(client);
      return client;
    },
    close: async () => {
      workloadClients.forEach((client) => client.close());
      Object.values(clients).forEach((client) => client.close());
      await mesh.stop();
      flush();
      await jwks.close();
      await db.destroy();
      const nats = await connectBus(NATS_URL, 'mayfly-e2e-cleanup');
      await deleteRevocationStream(nats, stream.stream);
      await (await jetstreamManager(nats)).streams.delete(`${stream.stream}_AUDIT_HEAD`).catch(() => undefined);
      await nats.close();
      const admin = createDatabase({ url: ADMIN_URL, maxConnections: 1 });
      await sql.raw(`DROP DATABASE IF EXISTS "mayfly_e2e_${id}" WITH (FORCE)`).execute(admin);
      await dropServiceRoles(admin, rolePrefix);
      await admin.destroy();
    },
  };
}

/** The gRPC status a refused call carried on the wire. */
export function wireStatus(error: unknown): number | undefined {
  if (error instanceof MayflyError) return (error.cause as ServiceError | undefined)?.code;
  return (error as Partial<ServiceError>).code;
}

/** Awaits a call expected to fail and returns its error. */
export async function refusal(call: Promise<unknown>): Promise<MayflyError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof MayflyError) return error;
    throw error;
  }
  throw new Error('the call was expected to be refused, but it succeeded');
}

/** Polls `probe` until it returns true or `timeoutMs` passes. */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 5_000, intervalMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/**
 * Retries `attempt` until it is refused, within `withinMs` (a bound the product promises, such as
 * a cache lifetime), and returns the refusal. Replaces "sleep past the bound, then try once":
 * the test waits only as long as it must and still fails when the bound is not kept.
 */
export async function refusedWithin(attempt: () => Promise<unknown>, withinMs: number, intervalMs = 50): Promise<MayflyError> {
  const until = Date.now() + withinMs;
  for (;;) {
    try {
      await attempt();
    } catch (error) {
      if (error instanceof MayflyError) return error;
      throw error;
    }
    if (Date.now() > until) throw new Error(`still accepted ${withinMs} ms later: the bound was not kept`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
