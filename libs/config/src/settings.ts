import { MayflyError } from '@mayfly/core';
import { EnvReader } from './env.js';

/** Default ports. Each is overridable by the variable named in SERVICE_PORT_VARIABLES. */
export const DEFAULT_PORTS = {
  attestation: 50051,
  decision: 50052,
  issuance: 50053,
  revocation: 50054,
  audit: 50055,
  'edge-verifier': 50056,
  'issuance-http': 8080,
  'revocation-http': 8081,
} as const;

export type ServiceName = Exclude<keyof typeof DEFAULT_PORTS, 'issuance-http' | 'revocation-http'>;

/** Default ports of each service's Prometheus /metrics endpoint. */
export const DEFAULT_METRICS_PORTS: Readonly<Record<ServiceName, number>> = {
  attestation: 9461,
  decision: 9462,
  issuance: 9463,
  revocation: 9464,
  audit: 9465,
  'edge-verifier': 9466,
};

/** Variable that sets the port of a service's /metrics endpoint. */
export function metricsPortVariable(service: ServiceName): string {
  return `MAYFLY_${service.toUpperCase().replace('-', '_')}_METRICS_PORT`;
}

export const SERVICE_NAMES: readonly ServiceName[] = [
  'attestation',
  'decision',
  'issuance',
  'revocation',
  'audit',
  'edge-verifier',
];

/** Variable that sets the port a service listens on. */
export function portVariable(service: ServiceName): string {
  return `MAYFLY_${service.toUpperCase().replace('-', '_')}_PORT`;
}

/** Variable that tells a client where a service is ("host:port"). */
export function addressVariable(service: ServiceName): string {
  return `MAYFLY_${service.toUpperCase().replace('-', '_')}_ADDR`;
}

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

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/mayfly';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export function commonSettings(service: ServiceName, env = new EnvReader()): CommonSettings {
  return {
    host: env.string('MAYFLY_HOST', '127.0.0.1'),
    port: env.port(portVariable(service), DEFAULT_PORTS[service]),
    databaseUrl: env.string('DATABASE_URL', DEFAULT_DATABASE_URL),
    natsUrl: env.string('NATS_URL', DEFAULT_NATS_URL),
    drainSeconds: env.int('MAYFLY_DRAIN_SECONDS', 10, { min: 0, max: 600 }),
    metricsPort: env.port(metricsPortVariable(service), DEFAULT_METRICS_PORTS[service]),
    healthPort: env.port(healthPortVariable(service), DEFAULT_HEALTH_PORTS[service]),
  };
}

/** Where to reach another service: MAYFLY_<NAME>_ADDR, else 127.0.0.1 on its default port. */
export function serviceAddress(service: ServiceName, env = new EnvReader()): string {
  return env.string(addressVariable(service), `127.0.0.1:${DEFAULT_PORTS[service]}`);
}

export const REVOCATION_STREAM_DEFAULTS = {
  stream: 'MAYFLY_REVOCATIONS',
  subjectPrefix: 'mayfly.revocations',
} as const;

export interface RevocationStreamSettings {
  readonly stream: string;
  readonly subjectPrefix: string;
}

export function revocationStreamSettings(env = new EnvReader()): RevocationStreamSettings {
  return {
    stream: env.string('MAYFLY_REVOCATION_STREAM', REVOCATION_STREAM_DEFAULTS.stream),
    subjectPrefix: env.string('MAYFLY_REVOCATION_SUBJECT_PREFIX', REVOCATION_STREAM_DEFAULTS.subjectPrefix),
  };
}

/**
 * Where the audit service keeps the audit chain's signed head outside the database (a JetStream
 * stream and its one subject; see @mayfly/bus audit-head-stream), and where verifiers read it.
 */
export const AUDIT_HEAD_STREAM_DEFAULTS = { stream: 'MAYFLY_AUDIT_HEAD', subject: 'mayfly.audit.head' } as const;

export function auditHeadStreamSettings(env = new EnvReader()): { stream: string; subject: string } {
  return {
    stream: env.string('MAYFLY_AUDIT_HEAD_STREAM', AUDIT_HEAD_STREAM_DEFAULTS.stream),
    subject: env.string('MAYFLY_AUDIT_HEAD_SUBJECT', AUDIT_HEAD_STREAM_DEFAULTS.subject),
  };
}

/**
 * Where the revocation service publishes the public keys its feed (events, markers, heartbeats)
 * is signed with: HTTPS on MAYFLY_REVOCATION_HTTP_PORT, with its own certificate, so edges pin its
 * SPIFFE ID as they pin issuance's for the JWKS.
 */
export function revocationKeysSettings(env = new EnvReader()): { httpPort: number; url: string } {
  const httpPort = env.port('MAYFLY_REVOCATION_HTTP_PORT', DEFAULT_PORTS['revocation-http']);
  const scheme = env.bool('MAYFLY_INSECURE_DEV', false) ? 'http' : 'https';
  return { httpPort, url: env.string('MAYFLY_REVOCATION_KEYS_URL', `${scheme}://127.0.0.1:${httpPort}${REVOCATION_KEYS_PATH}`) };
}

export const REVOCATION_KEYS_PATH = '/.well-known/revocation-keys.json';

/** The token issuer (iss) and where its JWKS is published. */
export function tokenIssuerSettings(env = new EnvReader()): { issuer: string; jwksUrl: string } {
  const httpPort = env.port('MAYFLY_ISSUANCE_HTTP_PORT', DEFAULT_PORTS['issuance-http']);
  // The JWKS is served over HTTPS with issuance's certificate unless TLS is off (development).
  const scheme = env.bool('MAYFLY_INSECURE_DEV', false) ? 'http' : 'https';
  const issuer = env.string('MAYFLY_TOKEN_ISSUER', `${scheme}://127.0.0.1:${httpPort}`);
  return { issuer, jwksUrl: env.string('MAYFLY_JWKS_URL', `${issuer}/.well-known/jwks.json`) };
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
  if (env.bool('MAYFLY_INSECURE_DEV', false)) return { mode: 'insecure' };
  const caFile = env.optionalString('MAYFLY_TLS_CA_FILE');
  const certFile = env.optionalString('MAYFLY_TLS_CERT_FILE');
  const keyFile = env.optionalString('MAYFLY_TLS_KEY_FILE');
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
  return { mode: 'tls', trustDomain: env.string('MAYFLY_TRUST_DOMAIN', 'mayfly.local'), caFile: caFile!, certFile, keyFile };
}

/** Port of a service's plaintext grpc.health.v1 endpoint for orchestrator probes. */
export function healthPortVariable(service: ServiceName): string {
  return `MAYFLY_${service.toUpperCase().replace('-', '_')}_HEALTH_PORT`;
}

/** Default health ports: the service's gRPC port + 10 (50061 … 50066). */
export const DEFAULT_HEALTH_PORTS: Readonly<Record<ServiceName, number>> = {
  attestation: 50061,
  decision: 50062,
  issuance: 50063,
  revocation: 50064,
  audit: 50065,
  'edge-verifier': 50066,
};
