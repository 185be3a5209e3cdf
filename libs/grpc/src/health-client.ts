import { ChannelCredentials, Client, Metadata, type ServiceError } from '@grpc/grpc-js';

/**
 * Asks a service's plaintext health port (grpc.health.v1) whether it is SERVING. Encodes the tiny request and
 * response by hand so that no proto loading is needed on this path.
 */
export async function checkHealth(address: string, timeoutMs = 1_000, service = ''): Promise<boolean> {
  // HealthCheckRequest { service } : field 1, length-delimited (empty: the server as a whole).
  const name = Buffer.from(service, 'utf8');
  const request = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  const client = new Client(address, ChannelCredentials.createInsecure());
  try {
    const response = await new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        (value: Buffer) => value,
        (value: Buffer) => value,
        request,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error: ServiceError | null, value?: Buffer) => (error || !value ? reject(error) : resolve(value)),
      );
    });
    // HealthCheckResponse { status = 1 } with SERVING = 1 encodes as 0x08 0x01.
    return response.length === 2 && response[0] === 0x08 && response[1] === 0x01;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** Polls until the server at address is SERVING or the time runs out. */
export async function waitForHealthy(address: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await checkHealth(address)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${address} did not report SERVING within ${timeoutMs} ms`);
}
