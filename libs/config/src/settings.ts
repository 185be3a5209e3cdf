import { MayflyError } from '@mayfly/core';
import { EnvReader } from './env.js';
import type { ServiceName } from './ports.js';
import {
  AUDIT_HEAD_STREAM,
  AUDIT_HEAD_SUBJECT,
  DATABASE_URL,
  DRAIN_SECONDS,
  HEALTH_PORT,
  HOST,
  INSECURE_DEV,
  ISSUANCE_HTTP_PORT,
  JWKS_URL,
  METRICS_PORT,
  NATS_URL,
  REVOCATION_HTTP_PORT,
  REVOCATION_KEYS_URL,
  REVOCATION_STREAM,
  REVOCATION_SUBJECT_PREFIX,
  SERVICE_ADDRESS,
  SERVICE_PORT,
  TLS_CA_FILE,
  TLS_CERT_FILE,
  TLS_KEY_FILE,
  TOKEN_ISSUER,
  TRUST_DOMAIN,
} from './registry/index.js';

/** Settings composed from several registry entries, read the same way by every service. */

export interface CommonSettings {
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /** Seconds a SIGTERM waits for calls in flight before it cuts them off. */
  readonly drainSeconds: number;
  readonly metricsPort: number;
  readonly healthPort: number;
}

export function commonSettings(service: ServiceName, env = new EnvReader()): CommonSettings {
  return {
    host: env.read(HOST),
    port: env.read(SERVICE_PORT.forService(service)),
    // Read when used: not every service has a database or a bus (the registry says which).
    get databaseUrl() {
      return env.read(DATABASE_URL);
    },
    get natsUrl() {
      return env.read(NATS_URL);
    },
    drainSeconds: env.read(DRAIN_SECONDS),
    metricsPort: env.read(METRICS_PORT.forService(service)),
    healthPort: env.read(HEALTH_PORT.forService(service)),
  };
}

/** Where to reach another service: MAYFLY_<NAME>_ADDR, else 127.0.0.1 on its default port. */
export function serviceAddress(service: ServiceName, env = new EnvReader()): string {
  return env.read(SERVICE_ADDRESS.forService(service));
}

export const REVOCATION_STREAM_DEFAULTS = {
  stream: REVOCATION_STREAM.parse(undefined),
  subjectPrefix: REVOCATION_SUBJECT_PREFIX.parse(undefined),
} as const;

export interface RevocationStreamSettings {
  readonly stream: string;
  readonly subjectPrefix: string;
}

export function revocationStreamSettings(env = new EnvReader()): RevocationStreamSettings {
  return { stream: env.read(REVOCATION_STREAM), subjectPrefix: env.read(REVOCATION_SUBJECT_PREFIX) };
}

/**
 * Where the audit service keeps the audit chain's signed head outside the database (a JetStream
 * stream and its one subject; see @mayfly/bus audit-head-stream), and where verifiers read it.
 */
export const AUDIT_HEAD_STREAM_DEFAULTS = { stream: AUDIT_HEAD_STREAM.parse(undefined), subject: AUDIT_HEAD_SUBJECT.parse(undefined) } as const;

export function auditHeadStreamSettings(env = new EnvReader()): { stream: string; subject: string } {
  return { stream: env.read(AUDIT_HEAD_STREAM), subject: env.read(AUDIT_HEAD_SUBJECT) };
}

/**
 * Where the revocation service publishes the public keys its feed (events, markers, heartbeats)
 * is signed with: HTTPS on MAYFLY_REVOCATION_HTTP_PORT, with its own certificate, so edges pin its
 * SPIFFE ID as they pin issuance's for the JWKS.
 */
export function revocationKeysSettings(env = new EnvReader()): { httpPort: number; url: string } {
  const httpPort = env.read(REVOCATION_HTTP_PORT);
  const scheme = env.read(INSECURE_DEV) ? 'http' : 'https';
  return {
    httpPort,
    // Read when used: the revocation service needs only the port, the edge only the URL.
    get url() {
      return env.read(REVOCATION_KEYS_URL) ?? `${scheme}://127.0.0.1:${httpPort}${REVOCATION_KEYS_PATH}`;
    },
  };
}

export const REVOCATION_KEYS_PATH = '/.well-known/revocation-keys.json';

/** The token issuer (iss) and where its JWKS is published. */
export function tokenIssuerSettings(env = new EnvReader()): { issuer: string; jwksUrl: string } {
  const httpPort = env.read(ISSUANCE_HTTP_PORT);
  // The JWKS is served over HTTPS with issuance's certificate unless TLS is off (development).
  const scheme = env.read(INSECURE_DEV) ? 'http' : 'https';
  const issuer = env.read(TOKEN_ISSUER) ?? `${scheme}://127.0.0.1:${httpPort}`;
  return {
    issuer,
    // Read when used: issuance serves the JWKS, only edges fetch it from a URL.
    get jwksUrl() {
      return env.read(JWKS_URL) ?? `${issuer}/.well-known/jwks.json`;
    },
  };
}

export type TlsSettings =
  | { readonly mode: 'insecure' }
  | {
      readonly mode: 'tls';
      readonly trustDomain: string;
      readonly caFile: string;
      /** This process's own certificate and key; a workload may have none (it authenticates by evidence). */
      readonly certFile: string | undefined;
      readonly keyFile: string | undefined;
    };

/** The SPIFFE ID of a Mayfly component: spiffe://<trust domain>/mayfly/<name>. */
export function componentSpiffeId(trustDomain: string, name: string): string {
  return `spiffe://${trustDomain}/mayfly/${name}`;
}

/**
 * How gRPC hops are secured: TLS with the CA, certificate and key in MAYFLY_TLS_CA_FILE,
 * MAYFLY_TLS_CERT_FILE, MAYFLY_TLS_KEY_FILE (trust domain MAYFLY_TRUST_DOMAIN), or plaintext
 * when MAYFLY_INSECURE_DEV=true. Nothing configured is an error, never a silent plaintext.
 */
export function tlsSettings(env = new EnvReader(), { requireIdentity }: { requireIdentity: boolean }): TlsSettings {
  if (env.read(INSECURE_DEV)) return { mode: 'insecure' };
  const caFile = env.read(TLS_CA_FILE);
  const certFile = env.read(TLS_CERT_FILE);
  const keyFile = env.read(TLS_KEY_FILE);
  const missing = [
    ['MAYFLY_TLS_CA_FILE', caFile],
    ...(requireIdentity ? [['MAYFLY_TLS_CERT_FILE', certFile], ['MAYFLY_TLS_KEY_FILE', keyFile]] : []),
  ].filter(([, value]) => value === undefined).map(([name]) => name);
  if (missing.length > 0 || (certFile === undefined) !== (keyFile === undefined)) {
    throw new MayflyError(
      'ERR_CONFIG',
      `TLS is not configured: set ${missing.length > 0 ? missing.join(', ') : 'both MAYFLY_TLS_CERT_FILE and MAYFLY_TLS_KEY_FILE'} ` +
        '(npm start makes a development CA and certificates), or MAYFLY_INSECURE_DEV=true to run plaintext for development only',
    );
  }
  return { mode: 'tls', trustDomain: env.read(TRUST_DOMAIN), caFile: caFile!, certFile, keyFile };
}

