import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RevocationEvent, RevocationScope } from '@mayfly/proto';
import { RevocationSet, readRevocationEvent, type TokenIdentity } from '@mayfly/verifier';

// `npm run bench:edge-memory`: the edge's memory for revocations (issue 9).
// 1. BENCH_REVOCATIONS grant entries (default 100,000; one per revoked grant), decoded from
//    RevocationEvent messages as the stream delivers them and read as the edge reads them.
// 2. One workload watermark covering BENCH_WATERMARK_TOKENS tokens (default 50,000): the heap the
//    set takes, and that every one of those tokens is revoked by it.
// Heap measured after full collections. (Entries built from crypto.randomUUID() strings measure
// ~4x more: V8 keeps those as slices of a larger string — not what an edge holds.)

const ENTRIES = Number(process.env['BENCH_REVOCATIONS'] ?? '100000');
const WATERMARK_TOKENS = Number(process.env['BENCH_WATERMARK_TOKENS'] ?? '50000');
const HOUR = 3_600_000;
const WORKLOAD = 'spiffe://bench.mayfly.local/ci/worker';
const say = (line: string): void => void process.stdout.write(`${line}\n`);

function heapMb(): number {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** Decodes a message and adds it as the edge does; throws on an event the edge would refuse. */
function apply(set: RevocationSet, message: Uint8Array): void {
  const heard = readRevocationEvent(RevocationEvent.decode(message), HOUR);
  if ('problem' in heard) throw new Error(heard.problem);
  set.add(heard);
}

if (!globalThis.gc) {
  process.stderr.write('bench:edge-memory needs --expose-gc (npm run bench:edge-memory passes it)\n');
  process.exit(1);
}
const notAfter = new Date(Date.now() + HOUR);

// 1. Grant entries.
const wire = Array.from({ length: ENTRIES }, (_, i) =>
  Buffer.from(RevocationEvent.encode(RevocationEvent.fromPartial({ id: randomUUID(), grantId: randomUUID(), tokenId: randomUUID(), spiffeId: WORKLOAD, taskId: `task-${i}`, reason: 'bench', notAfter })).finish()),
);
const before = heapMb();
const set = new RevocationSet(ENTRIES * 2);
for (const message of wire) apply(set, message);
const after = heapMb();
const last = RevocationEvent.decode(wire[wire.length - 1]!);
wire.length = 0;
const probe: TokenIdentity = { grantId: last.grantId, tokenId: last.tokenId, spiffeId: WORKLOAD, issuedAt: new Date(), keyId: 'k1' };
const unknown: TokenIdentity = { grantId: randomUUID(), tokenId: randomUUID(), spiffeId: 'spiffe://bench.mayfly.local/other', issuedAt: new Date(), keyId: 'k1' };
const started = process.hrtime.bigint();
const lookups = 1_000_000;
let hits = 0;
for (let i = 0; i < lookups; i++) if (set.revocationOf(i % 2 === 0 ? probe : unknown)) hits += 1;
const lookupNs = Number(process.hrtime.bigint() - started) / lookups;
const perEntryBytes = ((after - before) * 1024 * 1024) / ENTRIES;
say(`grant entries: ${ENTRIES} live entries take ${(after - before).toFixed(1)} MB of heap (${Math.round(perEntryBytes)} bytes each); a lookup takes ${lookupNs.toFixed(0)} ns (${hits} hits of ${lookups})`);

// 2. One workload watermark covering WATERMARK_TOKENS tokens issued before it.
const issuedAt = new Date(Date.now() - 60_000);
const tokens: TokenIdentity[] = Array.from({ length: WATERMARK_TOKENS }, () => ({ grantId: randomUUID(), tokenId: randomUUID(), spiffeId: WORKLOAD, issuedAt, keyId: 'k1' }));
const watermarkEvent = RevocationEvent.encode(
  RevocationEvent.fromPartial({ id: randomUUID(), scope: RevocationScope.REVOCATION_SCOPE_WORKLOAD, spiffeId: WORKLOAD, notBefore: new Date(), reason: 'bench', notAfter }),
).finish();
const beforeWatermark = heapMb();
const watermarked = new RevocationSet();
apply(watermarked, watermarkEvent);
const afterWatermark = heapMb();
const watermarkBytes = (afterWatermark - beforeWatermark) * 1024 * 1024;
const revoked = tokens.filter((token) => watermarked.revocationOf(token) !== undefined).length;
const later = watermarked.revocationOf({ ...tokens[0]!, issuedAt: new Date(Date.now() + 2_000) });
if (revoked !== WATERMARK_TOKENS || later !== undefined) throw new Error(`watermark revoked ${revoked} of ${WATERMARK_TOKENS} tokens; a later token ${later ? 'was' : 'was not'} revoked`);
say(
  `one workload watermark: revokes all ${WATERMARK_TOKENS} tokens issued before it (a later one still passes); the set holds ${watermarked.size} entry, ` +
    `heap change ${Math.round(watermarkBytes)} bytes (vs ${(((perEntryBytes * WATERMARK_TOKENS) / 1024 / 1024).toFixed(1))} MB as grant entries)`,
);

const dir = resolve('bench/results');
mkdirSync(dir, { recursive: true });
const file = resolve(dir, `edge-memory-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ entries: ENTRIES, heapMb: after - before, bytesPerEntry: perEntryBytes, lookupNs, watermarkTokens: WATERMARK_TOKENS, watermarkHeapBytes: watermarkBytes, watermarkSetSize: watermarked.size, node: process.version }, null, 2)}\n`,
);
say(`results written to ${file}`);
