import { describe, expect, it } from 'vitest';
import { MayflyError, createLogger } from '@mayfly/core';
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

  // Red team (issue 20, point 10): one refused event stopped every later usage report.
  it('splits a batch the audit service refuses for its content, sets the event at fault aside, and delivers the rest', async () => {
    const recorder = new UsageRecorder();
    const delivered: string[] = [];
    let calls = 0;
    const reporter = new UsageReporter(
      recorder,
      async (events) => {
        calls += 1;
        if (events.some((event) => event.grantId === 'poison')) throw new MayflyError('ERR_INVALID_ARGUMENT', 'grant_id must be a UUID');
        delivered.push(...events.map((event) => event.grantId));
      },
      'edge',
      log,
    );
    for (const id of ['a', 'b', 'poison', 'c', 'd']) recorder.record(use(id), new Date(1_000));
    expect(await reporter.report(new Date())).toBe(4);
    expect(delivered.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(reporter.deadLettered).toBe(1);
    // Later reports are not held up behind it.
    recorder.record(use('e'), new Date(2_000));
    calls = 0;
    expect(await reporter.report(new Date())).toBe(1);
    expect(calls).toBe(1);
  });

  it('keeps retrying a batch the audit service could not take (unavailable), without splitting it', async () => {
    const recorder = new UsageRecorder();
    let calls = 0;
    const reporter = new UsageReporter(recorder, async () => {
      calls += 1;
      throw new MayflyError('ERR_DEPENDENCY_UNAVAILABLE', 'audit is away');
    }, 'edge', log);
    for (const id of ['a', 'b', 'c']) recorder.record(use(id), new Date(1_000));
    expect(await reporter.report(new Date())).toBe(0);
    expect(calls).toBe(1);
    expect(reporter.deadLettered).toBe(0);
  });
});
