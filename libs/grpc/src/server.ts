import { EnvReader, GRPC_MAX_CONNECTION_AGE_MS } from '@mayfly/config';
import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Logger } from '@mayfly/core';
import { descriptorSetPath } from '@mayfly/proto';
import { endAnsweringStreams } from './answering-stream.js';
import { onCertificateFilesEvent } from './certificate-files.js';
import { addLazyReflection } from './lazy-reflection.js';
import { serverCredentials } from './credentials.js';
import { MALFORMED_REQUEST } from './handlers.js';
import { describePortHolder } from './port-holder.js';

export interface ServiceBinding {
  /** Fully qualified name, e.g. "mayfly.v1.IssuanceService"; used for health status. */
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  /** Plaintext port serving only grpc.health.v1, for orchestrator probes. */
  readonly healthPort: number;
  /** Internal services require a client certificate; workload-facing ones do not. Default true. */
  readonly requireClientCertificate?: boolean;
  /** See ServerCredentialOptions.optionalClientCaFile. */
  readonly optionalClientCaFile?: string | undefined;
  readonly services: readonly ServiceBinding[];
  readonly log: Logger;
}

export interface RunningGrpcServer {
  readonly port: number;
  readonly healthPort: number;
  /**
   * Reports the server SERVING or NOT_SERVING on grpc.health.v1 (e.g. an edge whose revocation
   * feed is not live: it answers, but refuses every token, and should get no traffic).
   */
  setServing(serving: boolean): void;
  /** Marks every service NOT_SERVING, lets calls in flight finish for up to graceMs, then stops. */
  shutdown(graceMs: number): Promise<void>;
}

const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** The health service name liveness probes ask: SERVING while the process runs, never "stale". */
export const LIVENESS_SERVICE = 'mayfly.liveness';

/** MAYFLY_GRPC_MAX_CONNECTION_AGE_MS, default 5 minutes. */
function maxConnectionAgeMs(): number {
  return new EnvReader().read(GRPC_MAX_CONNECTION_AGE_MS);
}
let reflectionDefinition: PackageDefinition | undefined;

/** Mayfly's descriptors plus grpc.health.v1, loaded once per process. */
function reflectionDescriptors(): PackageDefinition {
  reflectionDefinition ??= {
    ...loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetPath)),
    ...loadSync(healthProtoPath),
  };
  return reflectionDefinition;
}

/**
 * Builds and binds a gRPC server that also serves grpc.health.v1 and server reflection, so that
 * probes and grpcurl work against every Mayfly service.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new Server({
    'grpc.max_receive_message_length': 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    // Connections are closed (GOAWAY, calls in flight finish) after this age, so that clients
    // reconnect and re-resolve: replicas added by an autoscaler get traffic, instead of every
    // client staying on the replicas that existed when it connected.
    'grpc.max_connection_age_ms': maxConnectionAgeMs(),
    'grpc.max_connection_age_grace_ms': 30_000,
    // Channelz (call counters and socket registries for a channelz service Mayfly does not
    // serve) costs bookkeeping on every call: off, as on the client side.
    'grpc.enable_channelz': 0,
  });
  for (const service of options.services) server.addService(refuseMalformed(service.definition), service.implementation);

  // "" and each service: ready to serve (a stale edge says NOT_SERVING). LIVENESS_SERVICE: the
  // process is alive and answering, whatever its readiness — what a liveness probe must ask, or a
  // NATS outage would restart every edge pod.
  const health = new HealthImplementation({ '': 'SERVING', [LIVENESS_SERVICE]: 'SERVING' });
  for (const service of options.services) health.setStatus(service.name, 'SERVING');
  health.addToServer(server);

  // Reflection describes what this server serves, not every service in the contract; it is built
  // on first use (see addLazyReflection).
  addLazyReflection(server, reflectionDescriptors, [...options.services.map((s) => s.name), HEALTH_SERVICE]);

  // Rotated certificate files are taken (or refused, keeping the last good ones) on the fly.
  onCertificateFilesEvent((event) =>
    event.kind === 'reloaded'
      ? options.log.info({ files: event.paths }, 'TLS certificate files changed: new connections use them')
      : options.log.error({ files: event.paths, reason: event.reason }, 'TLS certificate files are not a usable identity: keeping the previous ones'),
  );
  const credentials = serverCredentials({ requireClientCertificate: options.requireClientCertificate ?? true, optionalClientCaFile: options.optionalClientCaFile });
  const port = await bind(server, options.host, options.port, credentials);

  // Probes cannot present client certificates: health gets a plaintext port of its own.
  const healthServer = new Server();
  health.addToServer(healthServer);
  const healthPort = await bind(healthServer, options.host, options.healthPort, ServerCredentials.createInsecure());
  options.log.info({ port, healthPort, services: options.services.map((s) => s.name) }, 'gRPC server listening');

  let shuttingDown = false;
  return {
    port,
    healthPort,
    setServing: (serving: boolean) => {
      if (shuttingDown) return;
      const status = serving ? 'SERVING' : 'NOT_SERVING';
      health.setStatus('', status);
      for (const service of options.services) health.setStatus(service.name, status);
    },
    shutdown: async (graceMs: number) => {
      shuttingDown = true;
      health.setStatus('', 'NOT_SERVING');
      for (const service of options.services) health.setStatus(service.name, 'NOT_SERVING');
      endAnsweringStreams();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          options.log.warn({ graceMs }, 'calls still in flight after the grace period; cutting them off');
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      healthServer.forceShutdown();
    },
  };
}

/**
 * grpc-js answers INTERNAL when a request cannot be decoded. Decoding failures are the caller's
 * fault, so each method's decoder hands the handler a marker instead, which unary() turns into
 * INVALID_ARGUMENT.
 */
function refuseMalformed(definition: ServiceDefinition): ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          try {
            return method.requestDeserialize(bytes);
          } catch (error) {
            return { [MALFORMED_REQUEST]: error instanceof Error ? error.message : String(error) };
          }
        },
      },
    ]),
  ) as ServiceDefinition;
}

function bind(server: Server, host: string, port: number, credentials: ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, credentials, (error, bound) => {
      if (error) reject(new Error(`cannot listen on ${host}:${port}: ${error.message}${inUse(error, port)}`));
      else resolve(bound);
    });
  });
}

/** For EADDRINUSE: who holds the port, and how to move this service off it. */
export function inUse(error: Error, port: number): string {
  if (!/EADDRINUSE|address already in use/i.test(error.message) || port === 0) return '';
  return ` — ${describePortHolder(port)}. Stop that process, or give this service another port (MAYFLY_<SERVICE>_PORT, _HEALTH_PORT, _METRICS_PORT)`;
}

/**
 * grpc.health.v1 alone, plaintext, for a component that serves no gRPC of its own (the console,
 * an HTTPS application): probes and the local launcher ask it the same way as every service.
 */
export async function startHealthServer(options: { host: string; port: number; log: Logger }): Promise<{ port: number; setServing(serving: boolean): void; close(): void }> {
  const health = new HealthImplementation({ '': 'SERVING', [LIVENESS_SERVICE]: 'SERVING' });
  const server = new Server();
  health.addToServer(server);
  const port = await bind(server, options.host, options.port, ServerCredentials.createInsecure());
  options.log.info({ healthPort: port }, 'health endpoint listening');
  return {
    port,
    setServing: (serving) => health.setStatus('', serving ? 'SERVING' : 'NOT_SERVING'),
    close: () => server.forceShutdown(),
  };
}
