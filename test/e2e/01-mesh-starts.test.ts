import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadPackageDefinition, type Client } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICE_NAMES } from '@mayfly/config';
import { channelCredentials, checkHealth } from '@mayfly/grpc';
import { fetchTrustingCa } from '@mayfly/verifier';
import { startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Step 1 of the story: every service starts as its own process, reports SERVING on
// grpc.health.v1, answers server reflection, and issuance publishes its JWKS.

let t: TestMesh;
beforeAll(async () => {
  t = await startTestMesh('mesh');
});
afterAll(async () => {
  await t?.close();
});

/** Lists the services a server offers, through grpc.reflection.v1. */
async function reflectServices(address: string, service: (typeof SERVICE_NAMES)[number]): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const protoPath = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  const definition = loadPackageDefinition(loadSync(protoPath, { keepCase: true })) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (address: string, credentials: unknown) => Client & Record<string, Function> } } };
  };
  const client = new definition.grpc.reflection.v1.ServerReflection(address, channelCredentials(service));
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const call = client['ServerReflectionInfo']!() as NodeJS.EventEmitter & { write(m: unknown): void; end(): void };
      call.on('data', (response: { list_services_response?: { service: { name: string }[] } }) => {
        resolve(response.list_services_response?.service.map((s) => s.name) ?? []);
        call.end();
      });
      call.on('error', reject);
      call.write({ list_services: '' });
    });
  } finally {
    client.close();
  }
}

describe('01 the mesh starts', () => {
  it('runs every service as a separate process', () => {
    const pids = SERVICE_NAMES.map((name) => t.mesh.processes.get(name)?.pid);
    expect(pids.every((pid) => typeof pid === 'number' && pid !== process.pid)).toBe(true);
    expect(new Set(pids).size).toBe(SERVICE_NAMES.length);
  });

  it('reports SERVING on grpc.health.v1 for every service', async () => {
    // On the plaintext health port, which orchestrator probes use without a certificate.
    for (const name of SERVICE_NAMES) expect(await checkHealth(t.mesh.healthAddresses[name]), name).toBe(true);
  });

  it('answers server reflection with its own services and health', async () => {
    // Issuance also serves ApprovalService (people answer requests where grants are issued), and
    // attestation RegistryService (it owns the registry).
    const expected: Record<string, string[]> = {
      attestation: ['mayfly.v1.AttestationService', 'mayfly.v1.RegistryService'],
      decision: ['mayfly.v1.DecisionService'],
      issuance: ['mayfly.v1.ApprovalService', 'mayfly.v1.IssuanceService'],
      revocation: ['mayfly.v1.RevocationService'],
      audit: ['mayfly.v1.AuditService'],
      'edge-verifier': ['mayfly.v1.EdgeVerifierService'],
    };
    for (const name of SERVICE_NAMES) {
      const services = await reflectServices(t.mesh.addresses[name], name);
      expect(services, name).toContain('grpc.health.v1.Health');
      expect(services.filter((s) => s.startsWith('mayfly.')).sort(), name).toEqual(expected[name]);
    }
  });

  it('publishes an EdDSA JWKS and a discovery document over HTTPS with its certificate', async () => {
    const fetchTls = fetchTrustingCa(readFileSync(t.mesh.env['MAYFLY_TLS_CA_FILE']!));
    const get = (url: string) => fetchTls(url, { headers: new Headers(), signal: AbortSignal.timeout(5_000) });
    expect(t.mesh.jwksUrl.startsWith('https://')).toBe(true);
    // Without the mesh CA the certificate is not trusted.
    await expect(fetch(t.mesh.jwksUrl)).rejects.toThrow();
    const jwks = (await (await get(t.mesh.jwksUrl)).json()) as { keys: Record<string, string>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(jwks.keys[0]!['d']).toBeUndefined();
    const discovery = (await (await get(`${t.mesh.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(discovery).toMatchObject({ issuer: t.mesh.issuer, jwks_uri: t.mesh.jwksUrl });
  });
});
