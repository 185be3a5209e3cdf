import { describe, expect, it } from 'vitest';
import { createLogger } from '@mayfly/core';
import type { StreamSnapshot } from './ports.js';
import { StreamGuard, type StreamGuardPorts } from './stream-guard.js';
import type { LiveSequences } from './stream-loss.js';

/** A stream and a table of live revocations, in memory: the guard's decisions, not NATS. */
function world(initial: StreamSnapshot | undefined, live: LiveSequences) {
  const calls: string[] = [];
  const state = { stream: initial, live };
  const ports: StreamGuardPorts = {
    readStream: async () => state.stream,
    createStream: async () => {
      calls.push('create');
      state.stream = { created: 'new', firstSequence: 1, lastSequence: 0 };
      return state.stream;
    },
    liveSequences: async () => state.live,
    republishLive: async () => {
      calls.push('republish');
      return 2;
    },
    publishMarker: async (checked) => {
      calls.push(`marker ${checked.created}@${checked.firstSequence}`);
    },
  };
  return { ports, calls, state };
}

const log = createLogger('test', { level: 'silent' });

describe('StreamGuard', () => {
  it('republishes on its first check, then only when the stream lost something; a marker follows every check', async () => {
    const w = world({ created: 'a', firstSequence: 1, lastSequence: 10 }, { lowest: 5, highest: 10 });
    const guard = new StreamGuard(w.ports, log);
    await guard.check();
    await guard.check();
    expect(w.calls).toEqual(['republish', 'marker a@1', 'marker a@1']);
    w.state.stream = { created: 'a', firstSequence: 11, lastSequence: 10 }; // purged
    await guard.check();
    expect(w.calls.slice(3)).toEqual(['republish', 'marker a@11']);
  });

  it('creates a missing stream and republishes into it', async () => {
    const w = world(undefined, { lowest: 1, highest: 3 });
    await new StreamGuard(w.ports, log).check();
    expect(w.calls).toEqual(['create', 'republish', 'marker new@1']);
  });

  it('does not mistake a revocation published during its check (by any replica) for a lost stream', async () => {
    const w = world({ created: 'a', firstSequence: 1, lastSequence: 5 }, { lowest: 1, highest: 5 });
    const guard = new StreamGuard(w.ports, log);
    await guard.check(); // the first check republishes by design
    // Another replica publishes sequence 6 and records it while this guard's first read is in
    // flight: whichever the guard reads first, it must not see PostgreSQL ahead of the stream.
    let published = false;
    const publishDuringFirstRead = <T>(read: () => Promise<T>) => async (): Promise<T> => {
      const value = await read();
      if (!published) {
        published = true;
        w.state.stream = { created: 'a', firstSequence: 1, lastSequence: 6 };
        w.state.live = { lowest: 1, highest: 6 };
      }
      return value;
    };
    w.ports.readStream = publishDuringFirstRead(w.ports.readStream);
    w.ports.liveSequences = publishDuringFirstRead(w.ports.liveSequences);
    await guard.check();
    expect(w.calls).toEqual(['republish', 'marker a@1', 'marker a@1']);
  });
});
