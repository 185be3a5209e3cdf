import { readFileSync } from 'node:fs';

interface SpanLine {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  startMs: number;
  durationMs: number;
  status?: { code: number };
}

/**
 * Prints the most recent traces from a MAYFLY_TRACES_FILE as indented trees with durations and
 * offsets, so a local run shows where each millisecond of a grant goes without a trace viewer.
 */
export function printTraces(file: string, count: number, write: (line: string) => void, options: { all?: boolean } = {}): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    write(`no traces at ${file}: start the mesh with MAYFLY_TRACES_FILE=${file} npm start, then make a request`);
    return;
  }
  const spans = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as SpanLine);
  const byTrace = new Map<string, SpanLine[]>();
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
  // By default only the traces a person asks about — grants (request, renew, delegate, complete,
  // collect) — not the background work (audit delivery, outbox, reapers) that fills the file
  // between requests. --all shows everything.
  const traces = [...byTrace.values()]
    .filter((group) => options.all || group.some(isGrantSpan))
    .map((group) => group.sort((a, b) => a.startMs - b.startMs))
    .sort((a, b) => a[0]!.startMs - b[0]!.startMs)
    .slice(-count);
  if (traces.length === 0) write(`no grant traces in ${file} yet${options.all ? '' : ' (--all shows background work too)'}: make a request, e.g. npm run demo`);
  for (const group of traces) {
    const ids = new Set(group.map((span) => span.spanId));
    const children = new Map<string, SpanLine[]>();
    for (const span of group) {
      const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : 'root';
      children.set(parent, [...(children.get(parent) ?? []), span]);
    }
    const start = group[0]!.startMs;
    write(`trace ${group[0]!.traceId}  (${group.length} spans)`);
    const walk = (parent: string, depth: number): void => {
      for (const span of children.get(parent) ?? []) {
        const failed = span.status?.code === 2 ? '  ERROR' : '';
        write(
          `  ${'+'.padStart(1)}${(span.startMs - start).toFixed(2).padStart(8)} ms ${span.durationMs.toFixed(2).padStart(8)} ms  ` +
            `${'  '.repeat(depth)}${span.service.replace('mayfly-', '').padEnd(13)} ${span.name}${failed}`,
        );
        walk(span.spanId, depth + 1);
      }
    };
    walk('root', 0);
    write('');
  }
}

/** A span of a grant's path: an RPC on a grant, or one of the grant pipeline's own steps. */
export function isGrantSpan(span: Pick<SpanLine, 'name'>): boolean {
  // The token endpoint is the HTTP door to the same grant flow.
  return /grant|oauth2\/token/i.test(span.name);
}
