import { createServer } from 'node:http';
import type { Logger } from '@mayfly/core';
import type { GrantKeeper } from './grant-keeper.js';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * /healthz: the agent runs (liveness). /readyz: every grant is held with an unexpired token
 * (readiness: 503 with each grant's state otherwise, so a probe's log says which one and why).
 */
export async function startHealthServer(options: { host: string; port: number; keepers: readonly GrantKeeper[]; log: Logger }): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (path === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    if (path !== '/readyz') return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    const grants = options.keepers.map((keeper) => ({
      name: keeper.config.name,
      resource: keeper.config.resource,
      ready: keeper.ready,
      grantId: keeper.grantId,
      expiresAt: keeper.expiresAt?.toISOString(),
      lastError: keeper.ready ? undefined : keeper.lastError,
    }));
    const ready = grants.every((grant) => grant.ready);
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ status: ready ? 'ready' : 'not ready', grants }));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot serve the agent's health endpoint on ${options.host}:${options.port}: ${error.message}`)));
    server.listen(options.port, options.host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : options.port);
    });
  });
  options.log.info({ port }, 'health endpoint: /healthz, /readyz');
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
