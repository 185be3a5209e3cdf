import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { printTraces } from './traces.js';

const span = (traceId: string, name: string, startMs: number, service = 'mayfly-issuance') => JSON.stringify({ service, name, traceId, spanId: `${traceId}-${name}`, startMs, durationMs: 1 });

describe('printTraces (npm run traces)', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'traces-')), 'traces.jsonl');
  writeFileSync(file, [
    span('grant1', 'mayfly.v1.IssuanceService/RequestGrant', 1),
    span('grant1', 'persist grant', 2),
    span('background1', 'audit deliver', 3, 'mayfly-audit'),
    span('background2', 'outbox publish', 4, 'mayfly-revocation'),
  ].join('\n'));

  it('shows grant traces by default, not the background work logged after them', () => {
    const lines: string[] = [];
    printTraces(file, 3, (line) => lines.push(line));
    expect(lines.filter((line) => line.startsWith('trace '))).toEqual(['trace grant1  (2 spans)']);
  });

  it('shows everything with --all', () => {
    const lines: string[] = [];
    printTraces(file, 3, (line) => lines.push(line), { all: true });
    expect(lines.filter((line) => line.startsWith('trace ')).map((line) => line.split(' ')[1])).toEqual(['grant1', 'background1', 'background2']);
  });
});
