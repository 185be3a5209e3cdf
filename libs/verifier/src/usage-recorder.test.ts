import { describe, expect, it } from 'vitest';
import { UsageRecorder } from './usage-recorder.js';

const use = (grantId: string, action = 'read') => ({ grantId, spiffeId: 'spiffe://x/w', taskId: 't', resource: 'pg:db', action });

describe('UsageRecorder', () => {
  it('counts uses per grant, resource and action with first and last use, and empties on take', () => {
    const recorder = new UsageRecorder();
    recorder.record(use('g1'), new Date(1_000));
    recorder.record(use('g1'), new Date(2_000));
    recorder.record(use('g1', 'write'), new Date(3_000));
    const { usage, dropped } = recorder.take();
    expect(dropped).toBe(0);
    expect(usage).toEqual([
      expect.objectContaining({ grantId: 'g1', action: 'read', count: 2, firstUse: new Date(1_000), lastUse: new Date(2_000) }),
      expect.objectContaining({ grantId: 'g1', action: 'write', count: 1 }),
    ]);
    expect(recorder.take().usage).toEqual([]);
  });

  it('stays bounded: past its size new keys are dropped and counted, known keys still count', () => {
    const recorder = new UsageRecorder(2);
    for (let i = 0; i < 1_000; i++) recorder.record(use(`g${i}`), new Date());
    recorder.record(use('g0'), new Date());
    expect(recorder.size).toBe(2);
    const { usage, dropped } = recorder.take();
    expect(dropped).toBe(998);
    expect(usage.find((entry) => entry.grantId === 'g0')?.count).toBe(2);
  });
});
