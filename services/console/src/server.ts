import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { DRAIN_SECONDS, EnvReader, serviceAddress } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { createClient, startHealthServer, type Closer } from '@mayfly/grpc';
import { ApprovalServiceClient, AuditServiceClient } from '@mayfly/proto';
import { AuditReader } from './api/audit-api.js';
import { PeopleApi } from './api/people-api.js';
import { OidcClient } from './auth/oidc-client.js';
import { SessionStore } from './auth/sessions.js';
import { ConsoleAssets } from './http/assets.js';
import { consoleApp } from './http/console-app.js';
import { consoleSettings } from './settings.js';

/**
 * Wiring only: settings → the people's identity provider, issuance's ApprovalService (over the
 * mesh's mutual TLS, as the console) → the HTTPS application, and a health endpoint for probes.
 */
export async function startConsole(log: Logger): Promise<Closer[]> {
  const env = new EnvReader(process.env, 'console');
  const settings = consoleSettings(env);
  const oidc = new OidcClient({ ...settings.oidc, redirectUri: `${settings.publicUrl}/auth/callback` });
  // Fetched now so that a wrong issuer or an unreachable provider is seen at start, in the log; the console still starts and retries on the first sign-in.
  await oidc.authorizationServer().then(
    (server) => log.info({ issuer: server.issuer }, 'identity provider ready'),
    (error: unknown) => log.warn({ err: error }, 'identity provider not reachable yet: sign-in will retry'),
  );
  const approvals = createClient(ApprovalServiceClient, serviceAddress('issuance', env), 'issuance');
  // The audit service checks callers' certificates: the console's may read the trail, never write it.
  const auditClient = createClient(AuditServiceClient, serviceAddress('audit', env), 'audit');
  const app = consoleApp({ settings, oidc, sessions: new SessionStore(), api: new PeopleApi(approvals), audit: new AuditReader(auditClient), assets: new ConsoleAssets(), log });

  const server = createServer({ cert: readFileSync(settings.tls.certFile), key: readFileSync(settings.tls.keyFile), minVersion: 'TLSv1.2' }, app);
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot listen on ${settings.host}:${settings.port}: ${error.message}`)));
    server.listen(settings.port, settings.host, resolve);
  });
  log.info({ url: settings.publicUrl, port: settings.port }, 'console listening');
  const health = await startHealthServer({ host: settings.host, port: settings.healthPort, log });

  const drainMs = env.read(DRAIN_SECONDS) * 1000;
  return [
    async () => {
      health.setServing(false);
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.closeAllConnections(); // open event streams never end on their own
          resolve();
        }, Math.min(drainMs, 2_000));
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    () => approvals.close(),
    () => auditClient.close(),
    () => health.close(),
  ];
}
