import { describe, expect, it } from 'vitest';
import { HeartbeatSender, type HeartbeatPorts } from './heartbeat.js';

function ports(state: { oldest?: Date; stream?: { created: string; firstSequence: number; lastSequence: number } }) {
  const sent: unknown[] = [];
  const value: HeartbeatPorts = {
    readStream: async () => state.stream,
    oldestUnpublishedAt: async () => state.oldest,
    publish: async (heartbeat) => void sent.push(heartbeat),
  };
  return { value, sent };
}

describe('HeartbeatSender', () => {
  const now = new Date('2026-01-01T00:00:10Z');
  const stream = { created: 'c1', firstSequence: 1, lastSequence: 42 };

  it('says where the stream ends', async () => {
    const p = ports({ stream });
    expect(await new HeartbeatSender(p.value, 1_000).beat(now)).toBe('sent');
    expect(p.sent).toEqual([{ created: 'c1', lastSequence: 42 }]);
  });

  it('is withheld while an acknowledged revocation waits past the grace to be published, so edges go stale instead', async () => {
    const late = ports({ stream, oldest: new Date('2026-01-01T00:00:08Z') });
    expect(await new HeartbeatSender(late.value, 1_000).beat(now)).toBe('withheld: revocation waiting to be published');
    expect(late.sent).toEqual([]);
    const justCommitted = ports({ stream, oldest: new Date('2026-01-01T00:00:09.500Z') });
    expect(await new HeartbeatSender(justCommitted.value, 1_000).beat(now)).toBe('sent');
  });

  it('is withheld when there is no stream', async () => {
    expect(await new HeartbeatSender(ports({}).value, 1_000).beat(now)).toBe('withheld: no stream');
  });
});
