import { readFileSync } from 'node:fs';
import {
  CONSOLE_HEALTH_PORT,
  CONSOLE_LIVE_POLL_MS,
  CONSOLE_METRICS_PORT,
  CONSOLE_OIDC_CA_FILE,
  CONSOLE_OIDC_CLIENT_ID,
  CONSOLE_OIDC_CLIENT_SECRET,
  CONSOLE_OIDC_DISCOVERY_URL,
  CONSOLE_OIDC_ISSUER,
  CONSOLE_PORT,
  CONSOLE_SESSION_SECONDS,
  CONSOLE_TLS_CERT_FILE,
  CONSOLE_TLS_KEY_FILE,
  CONSOLE_TRACE_URL,
  CONSOLE_URL,
  HOST,
  TLS_CERT_FILE,
  TLS_KEY_FILE,
  type EnvReader,
} from '@mayfly/config';
import { MayflyError } from '@mayfly/core';

export interface ConsoleSettings {
  readonly host: string;
  readonly port: number;
  readonly healthPort: number;
  readonly metricsPort: number;
  /** Where people open it (no trailing slash): the origin its forms must come from. */
  readonly publicUrl: string;
  readonly tls: { readonly certFile: string; readonly keyFile: string };
  readonly oidc: {
    readonly issuer: string;
    readonly discoveryUrl: string;
    readonly clientId: string;
    readonly clientSecret: string | undefined;
    readonly caFile: string | undefined;
  };
  readonly sessionSeconds: number;
  readonly livePollMs: number;
  readonly traceUrl: string;
}

/** The console's settings (MAYFLY_CONSOLE_*), each problem named with its variable. */
export function consoleSettings(env: EnvReader): ConsoleSettings {
  const port = env.read(CONSOLE_PORT);
  const issuer = env.read(CONSOLE_OIDC_ISSUER);
  if (!issuer) throw new MayflyError('ERR_CONFIG', 'MAYFLY_CONSOLE_OIDC_ISSUER is not set: the console signs people in with the OpenID Connect provider issuance trusts for approvals (MAYFLY_APPROVER_ISSUER); set it to that issuer');
  const certFile = env.read(CONSOLE_TLS_CERT_FILE) ?? env.read(TLS_CERT_FILE);
  const keyFile = env.read(CONSOLE_TLS_KEY_FILE) ?? env.read(TLS_KEY_FILE);
  if (!certFile || !keyFile) throw new MayflyError('ERR_CONFIG', 'the console serves HTTPS only: set MAYFLY_CONSOLE_TLS_CERT_FILE and MAYFLY_CONSOLE_TLS_KEY_FILE (or its mesh MAYFLY_TLS_CERT_FILE and MAYFLY_TLS_KEY_FILE)');
  const publicUrl = (env.read(CONSOLE_URL) ?? `https://127.0.0.1:${port}`).replace(/\/+$/, '');
  if (!publicUrl.startsWith('https://')) throw new MayflyError('ERR_CONFIG', `MAYFLY_CONSOLE_URL must be https (its session cookie is Secure): it is ${publicUrl}`);
  const secret = env.read(CONSOLE_OIDC_CLIENT_SECRET);
  return {
    host: env.read(HOST),
    port,
    healthPort: env.read(CONSOLE_HEALTH_PORT),
    metricsPort: env.read(CONSOLE_METRICS_PORT),
    publicUrl,
    tls: { certFile, keyFile },
    oidc: {
      issuer,
      discoveryUrl: env.read(CONSOLE_OIDC_DISCOVERY_URL) ?? `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
      clientId: env.read(CONSOLE_OIDC_CLIENT_ID),
      clientSecret: secret && !secret.includes('\n') && secret.startsWith('/') ? readFileSync(secret, 'utf8').trim() : secret,
      caFile: env.read(CONSOLE_OIDC_CA_FILE),
    },
    sessionSeconds: env.read(CONSOLE_SESSION_SECONDS),
    livePollMs: env.read(CONSOLE_LIVE_POLL_MS),
    traceUrl: env.read(CONSOLE_TRACE_URL),
  };
}
