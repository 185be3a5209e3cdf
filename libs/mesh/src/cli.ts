#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ServiceName } from '@mayfly/config';
import { runDemo } from './demo.js';
import { DEMO, seedDemo } from './demo-seed.js';
import { DevIssuer } from './dev-issuer.js';
import { resolveInfrastructure } from './infra.js';
import { formatLogLine } from './log-format.js';
import { startMesh } from './mesh.js';
import { useOperatorIdentity } from './operator-identity.js';
import { printTraces } from './traces.js';

const USAGE = `usage: mayfly <command>
  start   run the whole mesh locally (PostgreSQL and NATS found or started; demo data seeded)
  demo    grant → verify → revoke → verify against a running mesh, with timings
  seed    register the demo issuer and workload in DATABASE_URL
  traces  print the last traces of MAYFLY_TRACES_FILE (default .mayfly/traces.jsonl) as timed trees`;

/** Local state (dev keys, embedded database): MAYFLY_STATE_DIR, else ./.mayfly. */
const stateDir = resolve(process.env['MAYFLY_STATE_DIR'] ?? '.mayfly');
const devIssuerKey = join(stateDir, 'dev-issuer.jwk');
const say = (line: string): void => void process.stdout.write(`${line}\n`);

async function start(): Promise<void> {
  mkdirSync(stateDir, { recursive: true });
  const infra = await resolveInfrastructure(stateDir);
  say(`mayfly: Node ${process.version}`);
  infra.description.forEach((line) => say(`mayfly: ${line}`));
  const issuer = await DevIssuer.create(DEMO.issuer, devIssuerKey);
  await seedDemo(infra.databaseUrl, issuer);
  say(`mayfly: seeded demo workload ${DEMO.spiffeId}`);

  const color = process.stdout.isTTY;
  const index = new Map<ServiceName, number>();
  const mesh = await startMesh({
    databaseUrl: infra.databaseUrl,
    natsUrl: infra.natsUrl,
    signingKeyFile: join(stateDir, 'issuance-signing-key.jwk'),
    pkiDir: join(stateDir, 'pki'),
    insecure: process.env['MAYFLY_INSECURE_DEV'] === 'true',
    onLine: (service, line) => {
      if (!index.has(service)) index.set(service, index.size);
      say(formatLogLine(service, index.get(service) ?? 0, line, color));
    },
  }).catch(async (error: unknown) => {
    await infra.stop();
    throw error;
  });
  say(`mayfly: mesh is up: ${Object.entries(mesh.addresses).map(([name, address]) => `${name} ${address}`).join(', ')}`);
  say(`mayfly: JWKS at ${mesh.jwksUrl}. Try \`npm run demo\` in another terminal; Ctrl-C stops everything.`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('mayfly: stopping');
    await mesh.stop();
    await infra.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  for (const child of mesh.processes.values()) {
    child.onExit((code) => {
      if (!stopping) say(`mayfly: ${child.name} exited unexpectedly (code ${code}); stop with Ctrl-C and see its log above`);
    });
  }
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'start':
      return start();
    case 'demo':
      mkdirSync(stateDir, { recursive: true });
      useOperatorIdentity(stateDir);
      return runDemo(await DevIssuer.create(DEMO.issuer, devIssuerKey));
    case 'seed': {
      mkdirSync(stateDir, { recursive: true });
      const url = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/mayfly';
      await seedDemo(url, await DevIssuer.create(DEMO.issuer, devIssuerKey));
      return say(`seeded ${DEMO.spiffeId}`);
    }
    case 'traces':
      return printTraces(process.env['MAYFLY_TRACES_FILE'] ?? join(stateDir, 'traces.jsonl'), Number(process.argv[3] ?? 3), say);
    default:
      say(USAGE);
      process.exitCode = command === undefined || command === 'help' ? 0 : 2;
  }
}

const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 24) {
  process.stderr.write(
    `mayfly: needs Node 24 or newer, this is ${process.version}. Run it through npm (npm start, npm run demo): ` +
      'npm puts the Node 24 that npm ci installed (the "node" devDependency) first on PATH.\n',
  );
  process.exit(1);
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`mayfly: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
