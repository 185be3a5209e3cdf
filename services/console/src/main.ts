import { EnvReader } from '@mayfly/config';
import { createLogger } from '@mayfly/core';
import { closeOnSignals, exitOnStartupFailure } from '@mayfly/grpc';
import { setupTelemetry } from '@mayfly/telemetry';
import { CONSOLE_METRICS_PORT, HOST } from '@mayfly/config';
import { startConsole } from './server.js';

// The console is not a gRPC service (it serves HTTPS to people), so it wires what runService
// does for the others itself: telemetry, start-up, shutdown on signals.
const log = createLogger('console');
(async () => {
  const env = new EnvReader(process.env, 'console');
  const telemetry = await setupTelemetry({ service: 'console', host: env.read(HOST), metricsPort: env.read(CONSOLE_METRICS_PORT) });
  log.info({ tracing: telemetry.tracing, metricsPort: telemetry.metricsPort, node: process.version }, 'telemetry ready');
  const closers = await startConsole(log);
  return [...closers, () => telemetry.shutdown()];
})().then(
  (closers) => closeOnSignals(log, closers),
  (error: unknown) => exitOnStartupFailure(log, error),
);
