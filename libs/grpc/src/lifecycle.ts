import { commonSettings, componentSpiffeId, type ServiceName } from '@mayfly/config';
import { transportSettings } from './credentials.js';
import { createLogger, type Logger } from '@mayfly/core';
import { setupTelemetry } from '@mayfly/telemetry';

export type Closer = () => Promise<void> | void;

/**
 * Runs a service's shutdown on SIGTERM or SIGINT: closers run in order (stop taking calls and
 * drain them first, then close connections). A second signal exits at once.
 */
export function closeOnSignals(log: Logger, closers: readonly Closer[]): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      log.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    closing = true;
    log.info({ signal }, 'shutting down: draining calls in flight');
    void (async () => {
      let code = 0;
      for (const close of closers) {
        try {
          await close();
        } catch (error) {
          code = 1;
          log.error({ err: error }, 'error during shutdown');
        }
      }
      log.info('stopped');
      process.exit(code);
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Logs a start-up failure plainly and exits non-zero. */
export function exitOnStartupFailure(log: Logger, error: unknown): never {
  log.fatal({ err: error }, `failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

/**
 * The whole of a service's main: set up telemetry, start the service, close it on signals (then
 * flush telemetry), exit plainly if start-up fails. `start` wires the service and returns its
 * closers in shutdown order.
 */
export function runService(name: ServiceName, start: (log: Logger) => Promise<Closer[]>): void {
  const log = createLogger(name);
  (async () => {
    const settings = commonSettings(name);
    const telemetry = await setupTelemetry({ service: name, host: settings.host, metricsPort: settings.metricsPort });
    log.info({ tracing: telemetry.tracing, metricsPort: telemetry.metricsPort, node: process.version }, 'telemetry ready');
    const transport = transportSettings(true);
    if (transport.mode === 'insecure') {
      log.warn('INSECURE: MAYFLY_INSECURE_DEV=true — gRPC is plaintext and callers are not authenticated or authorized. Development only.');
    } else {
      log.info({ trustDomain: transport.trustDomain, spiffeId: componentSpiffeId(transport.trustDomain, name) }, 'TLS on: mutual TLS between services');
    }
    const closers = await start(log);
    return [...closers, () => telemetry.shutdown()];
  })().then(
    (closers) => closeOnSignals(log, closers),
    (error: unknown) => exitOnStartupFailure(log, error),
  );
}
