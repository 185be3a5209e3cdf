#!/usr/bin/env node
// Docker HEALTHCHECK: asks the running service's plaintext grpc.health.v1 port whether it is
// SERVING. The service is the one PID 1 runs (MAYFLY_SERVICE, set by the entry point).
//
// Kept cheap on purpose: it runs every few seconds in every container, and a check that loaded
// grpc-js and Mayfly's libraries took 1.3–2.6 s on a busy machine, so a 3 s timeout marked a
// healthy service unhealthy. This one speaks gRPC's framing over node:http2 itself and imports
// nothing but the dependency-free table of default ports.
import { readFileSync } from 'node:fs';
import { CONSOLE_DEFAULT_PORTS, DEFAULT_HEALTH_PORTS, healthPortVariable } from '../../libs/config/dist/ports.js';
import { askHealth } from './grpc-health.mjs';

const TIMEOUT_MS = Number(process.env.MAYFLY_HEALTHCHECK_TIMEOUT_MS ?? 5_000);

// The five services and the edge verifier, and the console (its health port beside its HTTPS one).
const HEALTH_PORTS = { ...DEFAULT_HEALTH_PORTS, console: CONSOLE_DEFAULT_PORTS.health };

const fromPid1 = () => {
  try {
    return readFileSync('/proc/1/cmdline', 'utf8').split('\0').find((arg) => arg in HEALTH_PORTS);
  } catch {
    return undefined;
  }
};
const service = process.env.MAYFLY_SERVICE ?? fromPid1();
if (!service || !(service in HEALTH_PORTS)) {
  process.stderr.write('healthcheck: cannot tell which service this container runs (set MAYFLY_SERVICE)\n');
  process.exit(1);
}
const port = Number(process.env[healthPortVariable(service)] ?? HEALTH_PORTS[service]);
const why = await askHealth('127.0.0.1', port, TIMEOUT_MS);
if (why) process.stderr.write(`healthcheck: ${service} on 127.0.0.1:${port}: ${why}\n`);
process.exit(why ? 1 : 0);
