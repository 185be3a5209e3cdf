import { DEFAULT_HEALTH_PORTS, DEFAULT_METRICS_PORTS, DEFAULT_PORTS, type ServiceName } from '../ports.js';
import { ALL_SERVICES, boolSetting, intSetting, optionalSetting, stringSetting, type Setting } from '../setting.js';
import { portFamily, variableFor, type SettingFamily } from './family.js';

/** Settings every service reads: where it listens, how hops are secured, where its stores are. */

export const SERVICE_PORT = portFamily({
  suffix: 'PORT',
  defaults: { attestation: DEFAULT_PORTS.attestation, decision: DEFAULT_PORTS.decision, issuance: DEFAULT_PORTS.issuance, revocation: DEFAULT_PORTS.revocation, audit: DEFAULT_PORTS.audit, 'edge-verifier': DEFAULT_PORTS['edge-verifier'] },
  defaultText: '7051 … 7056',
  description: 'gRPC port (attestation 7051, decision 7052, issuance 7053, revocation 7054, audit 7055, edge-verifier 7056)',
});

/** Who calls another service: the audit trail's owners (audit), issuance, the edge, clients, the CLI. */
const ADDRESS_READERS = ['attestation', 'decision', 'issuance', 'revocation', 'edge-verifier', 'console', 'clients', 'mayfly CLI'] as const;

export const SERVICE_ADDRESS: SettingFamily<string> = {
  pattern: 'MAYFLY_<SERVICE>_ADDR',
  readBy: ADDRESS_READERS,
  defaultText: '`127.0.0.1:<its port>`',
  description: 'where to reach a service, e.g. `MAYFLY_AUDIT_ADDR`',
  forService: (service) =>
    stringSetting({ name: variableFor(service, 'ADDR'), readBy: ADDRESS_READERS, description: 'where to reach a service', default: `127.0.0.1:${DEFAULT_PORTS[service]}` }),
};

export const HEALTH_PORT = portFamily({
  suffix: 'HEALTH_PORT',
  defaults: DEFAULT_HEALTH_PORTS,
  defaultText: 'gRPC port + 10 (7061 … 7066)',
  description: 'plaintext `grpc.health.v1` for orchestrator probes: the server as a whole ("") for readiness (a stale edge says NOT_SERVING), `mayfly.liveness` for liveness (SERVING while the process answers)',
});

export const METRICS_PORT = portFamily({
  suffix: 'METRICS_PORT',
  defaults: DEFAULT_METRICS_PORTS,
  defaultText: '9461 … 9466',
  description: 'Prometheus `/metrics` port (attestation 9461, decision 9462, issuance 9463, revocation 9464, audit 9465, edge-verifier 9466)',
});

export const HOST = stringSetting({ name: 'MAYFLY_HOST', readBy: ALL_SERVICES, default: '127.0.0.1', description: 'address to listen on' });

export const TLS_CA_FILE = optionalSetting({
  name: 'MAYFLY_TLS_CA_FILE',
  readBy: [...ALL_SERVICES, 'clients'],
  defaultText: '— (required unless insecure)',
  description: 'PEM CA that signs every Mayfly certificate',
});
export const TLS_CERT_FILE = optionalSetting({
  name: 'MAYFLY_TLS_CERT_FILE',
  readBy: [...ALL_SERVICES, 'clients'],
  defaultText: '— (required for services)',
  description: "this process's certificate (SAN `spiffe://<trust domain>/mayfly/<service>`)",
});
export const TLS_KEY_FILE = optionalSetting({
  name: 'MAYFLY_TLS_KEY_FILE',
  readBy: [...ALL_SERVICES, 'clients'],
  defaultText: '— (required for services)',
  description: "the private key of `MAYFLY_TLS_CERT_FILE`",
});
export const GRPC_MAX_CONNECTION_AGE_MS = intSetting({
  name: 'MAYFLY_GRPC_MAX_CONNECTION_AGE_MS',
  readBy: ALL_SERVICES,
  default: 300_000,
  min: 100,
  description: 'a server closes each client connection after this age (calls in flight finish), so that clients re-resolve and spread over replicas added since',
});
export const TLS_RELOAD_MS = intSetting({
  name: 'MAYFLY_TLS_RELOAD_MS',
  readBy: [...ALL_SERVICES, 'clients'],
  default: 10_000,
  min: 50,
  description: 'how often certificate, key and CA files are re-read: rotated files are used for new connections with no restart; a key that does not match its certificate (files half-replaced) is ignored until it does',
});
export const TRUST_DOMAIN = stringSetting({ name: 'MAYFLY_TRUST_DOMAIN', readBy: [...ALL_SERVICES, 'clients', 'mayfly CLI'], default: 'mayfly.local', description: "trust domain of the services' SPIFFE IDs" });
export const INSECURE_DEV = boolSetting({
  name: 'MAYFLY_INSECURE_DEV',
  readBy: [...ALL_SERVICES, 'clients', 'mayfly CLI'],
  default: false,
  description: '`true`: plaintext gRPC without caller authentication — development only, logged as a warning',
});

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/mayfly';
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export const DATABASE_URL = stringSetting({
  name: 'DATABASE_URL',
  readBy: ['attestation', 'decision', 'issuance', 'revocation', 'audit', 'mayfly CLI'],
  default: DEFAULT_DATABASE_URL,
  description:
    "PostgreSQL. For a service: a URL naming its own role (`mayfly_<service>`); services never migrate, they refuse to start on a schema that is not current. For `mayfly db migrate`: the owner",
});
export const NATS_URL = stringSetting({
  name: 'NATS_URL',
  readBy: ['issuance', 'revocation', 'audit', 'edge-verifier', 'mayfly CLI', 'npm start'],
  default: DEFAULT_NATS_URL,
  description:
    'NATS with JetStream (comma-separated for several); credentials as `nats://user:password@host:port` (never logged). Give the revocation service and the edges different users: see [NATS permissions](#nats-permissions)',
});
export const NATS_CA_FILE = optionalSetting({
  name: 'MAYFLY_NATS_CA_FILE',
  readBy: ['issuance', 'revocation', 'audit', 'edge-verifier', 'mayfly CLI'],
  description: 'PEM file of the CA that signed the NATS server\'s certificate: connections use TLS and trust only it. A `tls://` NATS_URL also asks for TLS (checked against the system store and NODE_EXTRA_CA_CERTS without this)',
});
export const DRAIN_SECONDS = intSetting({ name: 'MAYFLY_DRAIN_SECONDS', readBy: ALL_SERVICES, default: 10, min: 0, max: 600, description: 'on SIGTERM, how long calls in flight may finish' });
export const LOG_LEVEL = stringSetting({
  name: 'MAYFLY_LOG_LEVEL',
  readBy: [...ALL_SERVICES, 'mayfly CLI'],
  default: 'info',
  description: 'pino level; logs are JSON lines, tokens and evidence are redacted (read by `@mayfly/core`\'s logger, below this registry)',
});

/** The port a service listens on for gRPC. */
export function servicePort(service: ServiceName): Setting<number> {
  return SERVICE_PORT.forService(service);
}

