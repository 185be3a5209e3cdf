#!/usr/bin/env node
// Docker HEALTHCHECK: asks the running service's plaintext grpc.health.v1 port whether it is
// SERVING. The service is the one PID 1 runs (MAYFLY_SERVICE, set by the entry point).
import { readFileSync } from 'node:fs';
import { DEFAULT_HEALTH_PORTS, healthPortVariable } from '@mayfly/config';
import { checkHealth } from '@mayfly/grpc';

const fromPid1 = () => {
  try {
    return readFileSync('/proc/1/cmdline', 'utf8').split('\0').find((arg) => arg in DEFAULT_HEALTH_PORTS);
  } catch {
    return undefined;
  }
};
const service = process.env.MAYFLY_SERVICE ?? fromPid1();
if (!service || !(service in DEFAULT_HEALTH_PORTS)) {
  process.stderr.write('healthcheck: cannot tell which service this container runs (set MAYFLY_SERVICE)\n');
  process.exit(1);
}
const port = Number(process.env[healthPortVariable(service)] ?? DEFAULT_HEALTH_PORTS[service]);
process.exit((await checkHealth(`127.0.0.1:${port}`, 2_000)) ? 0 : 1);
