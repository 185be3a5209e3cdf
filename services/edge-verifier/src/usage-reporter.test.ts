import { describe, expect, it } from 'vitest';
import { createLogger } from '@mayfly/core';
import type { AuditEvent } from '@mayfly/proto';
import { UsageRecorder } from '@mayfly/verifier';
import { UsageReporter } from './usage-reporter.js';

const log = createLogger('test', { level: 'silent' });
const use = (grantId: string) => ({ grantId, spiffeId: 'spiffe://x/w', taskId: 't', resource: 'pg:db', action: 'read' });

describe('UsageReporter', () => {
  it('retries a failed report with the same event ids while new usage waits, bounded', async () => {
    const recorder = new UsageRecorder(3);
    const delivered: AuditEvent[][] = [];
    let up = false;
    const reporter = new UsageReporter(
      recorder,
      async (events) => {
        if (!up) throw new Error('audit unreachable');
        delivered.push(events);
      },
      'spiffe://mayfly.local/mayfly/edge-verifier',
      log,
    );
    recorder.record(use('g1'), new Date(1_000));
    expect(await reporter.report(new Date())).toBe(0);
    for (let i = 0; i < 10; i++) recorder.record(use(`h${i}`), new Date(2_000)); // arrives while audit is away
    expect(await reporter.report(new Date())).toBe(0);
    up = true;
    expect(await reporter.report(new Date())).toBe(1); // the first batch, as it was
    expect(delivered[0]!.map((event) => [event.kind, event.grantId])).toEqual([['grant.used', 'g1']]);
    expect(await reporter.report(new Date())).toBe(4); // then the three kept, and what found no room
    expect(delivered[1]!.map((event) => event.kind)).toEqual(['grant.used', 'grant.used', 'grant.used', 'usage.dropped']);
    expect(delivered[1]![3]!.detail).toMatchObject({ dropped: 7 });
    expect(await reporter.report(new Date())).toBe(0);
  });

  it('a retried batch keeps its ids (the audit log stores each once)', async () => {
    const recorder = new UsageRecorder();
    const attempts: string[][] = [];
    let fail = true;
    const reporter = new UsageReporter(recorder, async (events) => {
      attempts.push(events.map((event) => event.id));
      if (fail) throw new Error('timeout after delivery');
    }, 'edge', log);
    recorder.record(use('g1'), new Date());
    await reporter.report(new Date());
    fail = false;
    await reporter.report(new Date());
    expect(attempts[1]).toEqual(attempts[0]);
  });
});
