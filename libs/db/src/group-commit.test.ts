import { describe, expect, it } from 'vitest';
import { GroupCommit, isRowFault } from './group-commit.js';

/** A writer whose transactions the test finishes by hand, recording what each one held. */
function manualWriter(fail: (items: readonly string[]) => unknown = () => undefined) {
  const writes: { items: readonly string[]; finish: () => void }[] = [];
  const write = (items: readonly string[]) =>
    new Promise<void>((resolve, reject) => {
      writes.push({
        items,
        finish: () => {
          const error = fail(items);
          if (error) reject(error);
          else resolve();
        },
      });
    });
  return { writes, write };
}

/** Lets promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function tracked(promise: Promise<void>) {
  const state = { settled: false, error: undefined as unknown };
  promise.then(
    () => (state.settled = true),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

const uniqueViolation = Object.assign(new Error('duplicate key value violates unique constraint "grants_idempotency"'), { code: '23505' });

describe('GroupCommit', () => {
  it('writes an item that arrives alone at once, without waiting for company', () => {
    const { writes, write } = manualWriter();
    const commits = new GroupCommit(write, { maxBatch: 64, maxInFlight: 1, isItemFault: isRowFault });
    void commits.submit('a');
    // Synchronously inside submit: no timer, no tick between the call and the write.
    expect(writes.map((w) => w.items)).toEqual([['a']]);
  });

  it('batches what arrives while a transaction is in flight, and answers each caller only after its own commit', async () => {
    const { writes, write } = manualWriter();
    const sizes: number[] = [];
    const commits = new GroupCommit(write, { maxBatch: 64, maxInFlight: 1, isItemFault: isRowFault, onCommitted: (n) => sizes.push(n) });
    const first = tracked(commits.submit('a'));
    const later = ['b', 'c', 'd'].map((item) => tracked(commits.submit(item)));
    expect(writes).toHaveLength(1);
    expect(commits.waiting).toBe(3);

    writes[0]!.finish();
    await settle();
    expect(first.settled).toBe(true);
    expect(later.some((state) => state.settled)).toBe(false); // their transaction has not committed
    expect(writes.map((w) => w.items)).toEqual([['a'], ['b', 'c', 'd']]);

    writes[1]!.finish();
    await settle();
    expect(later.every((state) => state.settled && state.error === undefined)).toBe(true);
    expect(sizes).toEqual([1, 3]);
  });

  it('keeps maxInFlight transactions running and no more than maxBatch items in one', async () => {
    const { writes, write } = manualWriter();
    const commits = new GroupCommit(write, { maxBatch: 2, maxInFlight: 2, isItemFault: isRowFault });
    for (const item of ['a', 'b', 'c', 'd', 'e', 'f']) void commits.submit(item);
    expect(writes.map((w) => w.items)).toEqual([['a'], ['b']]);
    writes[0]!.finish();
    await settle();
    expect(writes.map((w) => w.items)).toEqual([['a'], ['b'], ['c', 'd']]);
    writes[1]!.finish();
    await settle();
    expect(writes.map((w) => w.items)).toEqual([['a'], ['b'], ['c', 'd'], ['e', 'f']]);
  });

  it('splits a batch refused for one row until that row fails alone; its batch-mates commit', async () => {
    const written: string[][] = [];
    const commits = new GroupCommit(
      async (items: readonly string[]) => {
        written.push([...items]);
        if (items.includes('bad')) throw uniqueViolation;
      },
      { maxBatch: 64, maxInFlight: 1, isItemFault: isRowFault },
    );
    const blocker = commits.submit('first'); // in flight, so the next five share a batch
    const results = ['a', 'b', 'bad', 'c', 'd'].map((item) => tracked(commits.submit(item)));
    await blocker;
    await settle();
    await settle();
    expect(results.map((state) => state.settled)).toEqual([true, true, true, true, true]);
    expect(results.map((state) => (state.error as { code?: string } | undefined)?.code)).toEqual([undefined, undefined, '23505', undefined, undefined]);
    expect(written[1]).toEqual(['a', 'b', 'bad', 'c', 'd']);
    expect(written.filter((items) => items.includes('bad')).at(-1)).toEqual(['bad']);
    // Every good item was committed in some successful write.
    const committed = written.filter((items) => !items.includes('bad')).flat();
    expect(committed.sort()).toEqual(['a', 'b', 'c', 'd', 'first']);
  });

  it('fails the whole batch at once when the database, not a row, is at fault', async () => {
    const unreachable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const { writes, write } = manualWriter((items) => (items.length > 1 ? unreachable : undefined));
    const commits = new GroupCommit(write, { maxBatch: 64, maxInFlight: 1, isItemFault: isRowFault });
    void commits.submit('first');
    const results = ['a', 'b', 'c'].map((item) => tracked(commits.submit(item)));
    writes[0]!.finish();
    await settle();
    writes[1]!.finish();
    await settle();
    expect(writes).toHaveLength(2); // not split: a smaller batch would meet the same database
    expect(results.every((state) => state.error === unreachable)).toBe(true);
  });

  it('knows row faults from the rest', () => {
    expect(isRowFault(uniqueViolation)).toBe(true);
    expect(isRowFault({ code: '22001' })).toBe(true); // value too long
    expect(isRowFault({ code: '40001' })).toBe(false); // serialization failure
    expect(isRowFault({ code: 'ECONNRESET' })).toBe(false);
    expect(isRowFault(undefined)).toBe(false);
  });
});
