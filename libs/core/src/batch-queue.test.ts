import { describe, expect, it } from 'vitest';
import { BatchQueue, type Settled } from './batch-queue.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchQueue', () => {
  it('runs an item alone at once, then batches what arrived meanwhile, giving each caller its own answer', async () => {
    const runs: number[][] = [];
    const gates: (() => void)[] = [];
    const queue = new BatchQueue<number, number>(
      (items) =>
        new Promise<Settled<number>[]>((resolve) => {
          runs.push([...items]);
          gates.push(() => resolve(items.map((n) => (n % 2 === 0 ? { ok: true, value: n * 10 } : { ok: false, error: new Error(`odd ${n}`) }))));
        }),
      { maxBatch: 8, maxInFlight: 1 },
    );
    const first = queue.submit(2);
    expect(runs).toEqual([[2]]);
    const rest = [3, 4, 6].map((n) => queue.submit(n).then((value) => ({ value }), (error: Error) => ({ error: error.message })));
    expect(queue.waiting).toBe(3);
    gates[0]!();
    expect(await first).toBe(20);
    await settle();
    expect(runs).toEqual([[2], [3, 4, 6]]);
    gates[1]!();
    expect(await Promise.all(rest)).toEqual([{ error: 'odd 3' }, { value: 40 }, { value: 60 }]);
  });

  it('fails every item of a batch whose run fails, or answers the wrong number of items', async () => {
    const broken = new BatchQueue<number, number>(async () => {
      throw new Error('peer unreachable');
    }, { maxBatch: 4, maxInFlight: 1 });
    await expect(broken.submit(1)).rejects.toThrow('peer unreachable');
    const short = new BatchQueue<number, number>(async () => [], { maxBatch: 4, maxInFlight: 1 });
    await expect(short.submit(1)).rejects.toThrow('0 answers for 1 items');
  });

  it('refuses a queue that could never run anything', () => {
    expect(() => new BatchQueue(async () => [], { maxBatch: 0, maxInFlight: 1 })).toThrow('at least 1');
  });
});
