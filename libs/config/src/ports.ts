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
