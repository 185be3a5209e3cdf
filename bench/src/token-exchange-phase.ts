import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { serviceAddress, tokenIssuerSettings } from '@mayfly/config';
import { callUnary, createClient } from '@mayfly/grpc';
import { DEMO, type DevIssuer } from '@mayfly/mesh';
import { IssuanceServiceClient } from '@mayfly/proto';
import { BENCH_WORKLOADS, benchSubject } from './grant-phases.js';
import { runLoad, type LoadPhase, type LoadTiming } from './load.js';

let taskCounter = 0;

/**
 * Issue 26: the HTTP door measured like the gRPC one. Each bench workload starts a session
 * (StartSession, evidence once) before the timed window, exactly as the gRPC session phase
 * does; then grants are RFC 8693 token exchanges over HTTPS with mutual TLS (the session's
 * X.509-SVID, no subject token), on keep-alive connections — one small connection pool per
 * workload, since each presents its own certificate.
 */
export async function tokenExchangeGrants(issuer: DevIssuer, concurrency: number, timing: LoadTiming): Promise<LoadPhase> {
  const caFile = process.env['MAYFLY_TLS_CA_FILE'];
  const ca = caFile ? readFileSync(caFile) : undefined;
  const endpoint = `${tokenIssuerSettings().issuer}/oauth2/token`;
  const bootstrap = createClient(IssuanceServiceClient, serviceAddress('issuance'), 'issuance');
  const agents: Agent[] = [];
  try {
    for (let i = 0; i < BENCH_WORKLOADS; i++) {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const evidence = { oidcToken: await issuer.mint(benchSubject(i), { audience: DEMO.audience, ttlSeconds: 600 }) };
      const session = await callUnary(bootstrap, bootstrap.startSession, { evidence, publicKey: publicKey.export({ type: 'spki', format: 'der' }) }, { target: 'issuance' });
      // At most two connections per workload: a workload holds a connection or two, not one per
      // request in flight. Requests rotate over the workloads (as the gRPC phase's do), so that
      // no workload's own rate limit is what gets measured.
      agents.push(new Agent({ connect: { ca, cert: session.certificatePem, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, connections: 2, keepAliveTimeout: 60_000 }));
    }
    return await runLoad('token exchange grants', concurrency, timing, async (w) => {
      const body = new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        resource: DEMO.resource,
        scope: 'read',
        task_id: `bench-token-exchange-${++taskCounter}-${Date.now()}`,
        task_kind: 'bench',
        ttl_seconds: '60',
      }).toString();
      const response = await request(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        dispatcher: agents[(w + taskCounter) % agents.length]!,
      });
      const answer = (await response.body.json()) as { access_token?: string; error_description?: string };
      if (response.statusCode !== 200 || !answer.access_token) throw new Error(`token exchange answered ${response.statusCode}: ${answer.error_description ?? ''}`);
    });
  } finally {
    bootstrap.close();
    await Promise.all(agents.map((agent) => agent.close()));
  }
}
