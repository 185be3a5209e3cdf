import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Periodic } from './periodic.js';

function fakeLog() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (_fields: unknown, message: string) => void lines.push({ level, message });
  return { lines, log: { warn: at('warn'), info: at('info') } as never };
}

describe('Periodic', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('runs every interval, never two runs at once, and stop() waits for the run in progress', async () => {
    const { log } = fakeLog();
    let running = 0;
    let most = 0;
    let runs = 0;
    let finish: (() => void) | undefined;
    const loop = Periodic.start({ name: 'test', intervalMs: 100, jitter: 0, log }, async () => {
      running += 1;
      most = Math.max(most, running);
      runs += 1;
      await new Promise<void>((resolve) => (finish = resolve));
      running -= 1;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000); // the first run is still going: nothing piles up
    expect(runs).toBe(1);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish!();
    await stopping;
    expect(stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(1);
    expect(most).toBe(1);
  });

  it('says a failure once when it starts and once when it recovers, not every tick', async () => {
    const { log, lines } = fakeLog();
    let fail = true;
    const loop = Periodic.start({ name: 'flaky', intervalMs: 10, jitter: 0, log }, async () => {
      if (fail) throw new Error('database away');
    });
    await vi.advanceTimersByTimeAsync(55);
    expect(lines.filter((line) => line.level === 'warn')).toHaveLength(1);
    fail = false;
    await vi.advanceTimersByTimeAsync(20);
    expect(lines.map((line) => line.message)).toEqual(['background loop failed; will retry', 'background loop recovered']);
    await loop.stop();
  });

  it('spreads waits by the jitter and refuses a non-positive interval', () => {
    const { log } = fakeLog();
    const loop = new Periodic({ name: 'j', intervalMs: 1_000, jitter: 0.1, log }, async () => undefined);
    expect(loop.nextDelayMs(() => 0)).toBe(900);
    expect(loop.nextDelayMs(() => 1)).toBe(1_100);
    expect(() => new Periodic({ name: 'bad', intervalMs: 0, log }, async () => undefined)).toThrow(RangeError);
  });
});
