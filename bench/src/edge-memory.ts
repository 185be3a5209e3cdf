import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RevocationEvent } from '@mayfly/proto';
import { RevocationSet } from '@mayfly/verifier';

// `npm run bench:edge-memory`: the edge's memory for live revocation entries (issue 9). Fills the
// edge's revocation set with BENCH_REVOCATIONS entries (default 100,000; one per revoked grant)
// decoded from RevocationEvent messages as the stream delivers them, and measures the V8 heap it
// takes, after full collections. (Entries built from crypto.randomUUID() strings measure ~4x more:
// V8 keeps those as slices of a larger string — not what an edge holds.)

const ENTRIES = Number(process.env['BENCH_REVOCATIONS'] ?? '100000');
const say = (line: string): void => void process.stdout.write(`${line}\n`);

function heapMb(): number {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

if (!globalThis.gc) {
  process.stderr.write('bench:edge-memory needs --expose-gc (npm run bench:edge-memory passes it)\n');
  process.exit(1);
}
const notAfter = new Date(Date.now() + 3_600_000);
const wire = Array.from({ length: ENTRIES }, (_, i) =>
  Buffer.from(RevocationEvent.encode(RevocationEvent.fromPartial({ id: randomUUID(), grantId: randomUUID(), tokenId: randomUUID(), spiffeId: 'spiffe://bench.mayfly.local/ci/worker', taskId: `task-${i}`, reason: 'bench', notAfter })).finish()),
);
const before = heapMb();
const set = new RevocationSet(ENTRIES * 2);
let probe = { grantId: '', tokenId: '' };
for (const message of wire) {
  const event = RevocationEvent.decode(message);
  set.add({ grantId: event.grantId, tokenId: event.tokenId, notAfterMs: event.notAfter!.getTime() });
  probe = { grantId: event.grantId, tokenId: event.tokenId };
}
const after = heapMb();
wire.length = 0;
const started = process.hrtime.bigint();
const lookups = 1_000_000;
let hits = 0;
const unknown = { grantId: randomUUID(), tokenId: randomUUID() };
for (let i = 0; i < lookups; i++) {
  const asked = i % 2 === 0 ? probe : unknown;
  if (set.isRevoked(asked.grantId, asked.tokenId)) hits += 1;
}
const lookupNs = Number(process.hrtime.bigint() - started) / lookups;
const perEntryBytes = ((after - before) * 1024 * 1024) / ENTRIES;
say(`edge revocation set: ${ENTRIES} live entries take ${(after - before).toFixed(1)} MB of heap (${Math.round(perEntryBytes)} bytes each); a lookup takes ${lookupNs.toFixed(0)} ns (${hits} hits of ${lookups})`);
const dir = resolve('bench/results');
mkdirSync(dir, { recursive: true });
const file = resolve(dir, `edge-memory-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ entries: ENTRIES, heapMb: after - before, bytesPerEntry: perEntryBytes, lookupNs, node: process.version }, null, 2)}\n`);
say(`results written to ${file}`);
