import { AuditOutcome, RecordRequest, decodeRecordRequest, type AuditEvent } from '@mayfly/proto';

/**
 * The audit service's decoding of one Record request (32 `grant.issued` events), the generated
 * RecordRequest.decode against decodeRecordRequest on the same bytes, alternated in rounds so
 * that the machine's drift falls on both alike. Prints µs per event for each, per round.
 *
 *   npm run bench:record-decode     (BENCHMARKS.md, issue 24, 2026-12-06)
 */
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 10);
const DECODINGS = 2_000;
const EVENTS = 32;

const detail = {
  workload: 'spiffe://e2e.mayfly.test/prod/reporter', resource: 'pg:orders-db', actions: ['read', 'write'], ttlSeconds: 300,
  expiresAt: '2026-12-06T00:30:00.000Z', policyIds: ['prod-reads', 'base'], policyVersion: 'sha256:abcdef0123456789', attestor: 'k8s-psat',
  claims: { namespace: 'prod', serviceAccount: 'reporter', pod: 'reporter-7d9f' }, credentialFormat: 'jwt', keyId: 'k-2026-12', session: true, renewals: 0, traceId: '',
};
const events: AuditEvent[] = Array.from({ length: EVENTS }, (_, i) => ({
  id: `01a248b6-7cd6-7b5a-8b7d-6ed1d5826${String(i).padStart(3, '0')}`, occurredAt: new Date(), kind: 'grant.issued', actor: 'spiffe://e2e.mayfly.test/prod/reporter',
  grantId: '01a248b6-7cd6-7b5a-8b7d-6ed1d58262f0', taskId: 'task-1', outcome: AuditOutcome.AUDIT_OUTCOME_SUCCESS, detail, sequence: 0, source: '',
}));
const bytes = Buffer.from(RecordRequest.encode({ events }).finish());

function microsecondsPerEvent(decode: (bytes: Buffer) => RecordRequest): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < DECODINGS; i++) decode(bytes);
  return Number(process.hrtime.bigint() - started) / DECODINGS / EVENTS / 1_000;
}

console.log(`decoding a Record of ${EVENTS} grant.issued events (${bytes.length} bytes), ${DECODINGS} times per round`);
for (let round = 1; round <= ROUNDS; round++) {
  const generated = microsecondsPerEvent((b) => RecordRequest.decode(b));
  const handWritten = microsecondsPerEvent(decodeRecordRequest);
  console.log(`round ${round}: generated ${generated.toFixed(2)} µs per event, decodeRecordRequest ${handWritten.toFixed(2)} µs per event`);
}
