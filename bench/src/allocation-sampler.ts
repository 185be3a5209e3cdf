/**
 * What a service allocates per grant: V8's sampling heap profiler, attached through the
 * inspector, keeps every sampled allocation (those the scavenger and the full collector freed
 * too) for a window of load, and the bytes are divided by the grants committed in that window.
 * Garbage is what the collector then spends its time on, and unlike CPU seconds it does not drift
 * with a shared machine's speed, so it can tell two builds apart where CPU time cannot.
 *
 *   node bench/dist/allocation-sampler.js WS_URL SECONDS [TOP]
 *
 * WS_URL is the service's inspector (`--inspect=127.0.0.1:0` prints it); the grants are counted
 * in the mayfly database on 127.0.0.1. bench/allocations-per-grant.sh does the whole run.
 *
 * With BENCH_SURVIVORS=1 the objects the scavenger freed are left out: what remains is what lived
 * through at least one scavenge, which is what makes a scavenge slow (it copies survivors) and what
 * gets promoted to the old generation for the full collector to mark and compact.
 */
import pg from 'pg';

interface CallFrame { functionName: string; url: string }
interface SampleNode { callFrame: CallFrame; selfSize: number; children: SampleNode[] }

const [url, secondsText, topText] = process.argv.slice(2);
if (!url || !secondsText) {
  process.stderr.write('usage: node bench/dist/allocation-sampler.js WS_URL SECONDS [TOP]\n');
  process.exit(2);
}

async function inspector(address: string) {
  const socket = new WebSocket(address);
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  socket.onmessage = (message) => {
    const reply = JSON.parse(String(message.data)) as { id?: number; result?: unknown; error?: unknown };
    const waiter = reply.id === undefined ? undefined : pending.get(reply.id);
    if (!waiter || reply.id === undefined) return;
    pending.delete(reply.id);
    if (reply.error) waiter.reject(new Error(JSON.stringify(reply.error)));
    else waiter.resolve(reply.result);
  };
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error(`cannot reach the inspector at ${address}`));
  });
  return {
    send: <T>(method: string, params: object = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

async function grantsCommitted(): Promise<number> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'mayfly' });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM grants');
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

const packageOf = (frame: CallFrame): string => {
  if (!frame.url) return '(native)';
  if (frame.url.startsWith('node:')) return 'node';
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (dependency) return dependency[1]!;
  const own = /\/(libs|services)\/([^/]+)/.exec(frame.url);
  return own ? `${own[1]}/${own[2]}` : frame.url;
};

const session = await inspector(url);
await session.send('HeapProfiler.enable');
const survivorsOnly = process.env['BENCH_SURVIVORS'] === '1';
await session.send('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !survivorsOnly });
const before = await grantsCommitted();
await new Promise((resolve) => setTimeout(resolve, Number(secondsText) * 1000));
const after = await grantsCommitted();
const { profile } = await session.send<{ profile: { head: SampleNode } }>('HeapProfiler.stopSampling');
session.close();

const grants = after - before;
const byPackage = new Map<string, number>();
const byMayflyFrame = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
const walk = (node: SampleNode, stack: CallFrame[]): void => {
  const here = [...stack, node.callFrame];
  if (node.selfSize > 0) {
    total += node.selfSize;
    const pkg = packageOf(node.callFrame);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + node.selfSize);
    const fn = `${pkg} ${node.callFrame.functionName || '(anonymous)'}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.selfSize);
    // Who asked: the nearest of Mayfly's own frames up the stack.
    const own = [...here].reverse().find((frame) => /\/(libs|services)\//.test(frame.url) && !frame.url.includes('node_modules'));
    const key = own ? `${packageOf(own)} ${own.functionName || '(anonymous)'}` : '(no Mayfly frame: runtime and library callbacks)';
    byMayflyFrame.set(key, (byMayflyFrame.get(key) ?? 0) + node.selfSize);
  }
  for (const child of node.children) walk(child, here);
};
walk(profile.head, []);

if (grants <= 0) throw new Error('no grants were committed in the window: is load running?');
const kib = (bytes: number) => (bytes / grants / 1024).toFixed(1).padStart(6);
const top = Number(topText ?? 15);
const what = survivorsOnly ? 'allocated and alive after a scavenge' : 'allocated';
console.log(`${grants} grants in ${secondsText} s: ${(total / 1e6).toFixed(1)} MB ${what}, ${kib(total).trim()} KiB per grant`);
console.log('by package allocating (KiB per grant):');
for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${kib(bytes)}  ${name}`);
console.log('by the nearest Mayfly frame (KiB per grant):');
for (const [name, bytes] of [...byMayflyFrame].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${kib(bytes)}  ${name}`);
console.log('by the allocating function (KiB per grant):');
for (const [name, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${kib(bytes)}  ${name}`);
