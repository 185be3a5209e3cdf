/**
 * Default ports. Each is overridable by the variable named in SERVICE_PORT_VARIABLES.
 *
 * Every default lies below Linux's ephemeral port range (32768–60999, net.ipv4.ip_local_port_range):
 * a port inside it can be held at any moment by one of the machine's own outgoing connections, and
 * local meshes on 50051–50066 failed to start when one did (EADDRINUSE). ports.test.ts holds this.
 */
export const EPHEMERAL_PORT_RANGE = { first: 32768, last: 60999 } as const;

export const DEFAULT_PORTS = {
  attestation: 7051,
  decision: 7052,
  issuance: 7053,
  revocation: 7054,
  audit: 7055,
  'edge-verifier': 7056,
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

/** Port of a service's plaintext grpc.health.v1 endpoint for orchestrator probes. */
export function healthPortVariable(service: ServiceName): string {
  return `MAYFLY_${service.toUpperCase().replace('-', '_')}_HEALTH_PORT`;
}

/**
 * The operator console's default ports: HTTPS for people, then health and metrics like the
 * services'. Here (not only in its settings) so that the image's dependency-free health check
 * knows them.
 */
export const CONSOLE_DEFAULT_PORTS = { https: 7057, health: 7067, metrics: 9467 } as const;

/** Default health ports: the service's gRPC port + 10 (7061 … 7066). */
export const DEFAULT_HEALTH_PORTS: Readonly<Record<ServiceName, number>> = {
  attestation: 7061,
  decision: 7062,
  issuance: 7063,
  revocation: 7064,
  audit: 7065,
  'edge-verifier': 7066,
};
