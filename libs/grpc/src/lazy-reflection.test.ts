import { Server, ServerCredentials, credentials, loadPackageDefinition, type Client } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descriptorSetPath } from '@mayfly/proto';
import { addLazyReflection } from './lazy-reflection.js';

// A real grpc-js server in this process: reflection answers on both protocol versions, exactly
// as @grpc/reflection does, and nothing of it is built until someone asks.

const require = createRequire(import.meta.url);
let server: Server;
let address: string;
let describeCalls = 0;

beforeAll(async () => {
  server = new Server();
  const describeContract = (): PackageDefinition => {
    describeCalls += 1;
    return loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetPath));
  };
  addLazyReflection(server, describeContract, ['mayfly.v1.DecisionService']);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  address = `127.0.0.1:${port}`;
});

afterAll(() => server?.forceShutdown());

type ReflectionClient = Client & { serverReflectionInfo: () => NodeJS.ReadWriteStream & { write: (message: unknown) => boolean; end: () => void } };

async function ask(version: 'v1' | 'v1alpha', message: Record<string, unknown>): Promise<Record<string, unknown>> {
  const protoPath = require.resolve(`@grpc/reflection/build/proto/grpc/reflection/${version}/reflection.proto`);
  const pkg = loadPackageDefinition(loadSync(protoPath, { longs: String, enums: String, bytes: Array, defaults: true, oneofs: true })) as unknown as {
    grpc: { reflection: Record<string, { ServerReflection: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => ReflectionClient }> };
  };
  const client = new pkg.grpc.reflection[version]!.ServerReflection(address, credentials.createInsecure());
  try {
    const call = client.serverReflectionInfo();
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      call.on('data', resolve);
      call.on('error', reject);
    });
    call.write({ host: '', ...message });
    const response = await answer;
    call.end();
    return response;
  } finally {
    client.close();
  }
}

describe('lazy reflection', () => {
  it('builds nothing until the first reflection request, then answers v1 and v1alpha', async () => {
    expect(describeCalls).toBe(0);
    const v1 = await ask('v1', { listServices: '*' });
    expect((v1['listServicesResponse'] as { service: { name: string }[] }).service.map((s) => s.name)).toEqual(['mayfly.v1.DecisionService']);
    const v1alpha = await ask('v1alpha', { listServices: '*' });
    expect((v1alpha['listServicesResponse'] as { service: { name: string }[] }).service.map((s) => s.name)).toEqual(['mayfly.v1.DecisionService']);
    const file = await ask('v1', { fileContainingSymbol: 'mayfly.v1.DecisionService' });
    expect((file['fileDescriptorResponse'] as { fileDescriptorProto: unknown[] }).fileDescriptorProto.length).toBeGreaterThan(0);
    expect(describeCalls).toBe(1); // built once, then reused
  });
});
