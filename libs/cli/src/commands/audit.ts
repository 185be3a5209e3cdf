import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeChainHead, readAuditChain, verifyAuditChain, type ExternalRecord } from '@mayfly/audit-trail';
import { AuditHeadMissing, connectBus, readAuditHead } from '@mayfly/bus';
import { DATABASE_URL, DEFAULT_NATS_URL, EnvReader, auditHeadStreamSettings } from '@mayfly/config';
import { createDatabase, redactUrl } from '@mayfly/db';
import { callUnary } from '@mayfly/grpc';
import { AuditEvent, AuditOutcome, AuditServiceClient, ListEventsRequest } from '@mayfly/proto';
import type { CommandContext } from '../command.js';
import { asOperator } from '../operator-client.js';


/**
 * The checkpoint key to trust: --public-key FILE (a JWK, public or private), else
 * MAYFLY_AUDIT_CHECKPOINT_KEY_FILE, else npm start's key in the state directory. Without one,
 * signatures are checked against the keys the rows name — which proves nothing against someone
 * who can write the rows, and the report says so.
 */
function trustedKeys(context: CommandContext): string[] | undefined {
  const file = context.flags.publicKey ?? process.env['MAYFLY_AUDIT_CHECKPOINT_KEY_FILE'] ?? join(context.stateDir, 'audit-checkpoint-key.jwk');
  if (!existsSync(file)) {
    if (context.flags.publicKey) throw new Error(`--public-key ${file} does not exist`);
    return undefined;
  }
  const { x } = JSON.parse(readFileSync(file, 'utf8')) as { x?: string };
  if (!x) throw new Error(`${file} is not an Ed25519 JWK (no x)`);
  return [x];
}

/** The checkpoint interval (60 s) plus a grace: how old the external head may be by default. */
const DEFAULT_MAX_HEAD_AGE_SECONDS = 180;

/** "180", "90s", "3m", "1h": seconds. */
export function parseSeconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const match = /^(\d+)(s|m|h)?$/.exec(value.trim());
  if (!match) throw new Error(`${flag} must be a number of seconds or an age like 90s, 3m, 1h (not ${JSON.stringify(value)})`);
  return Number(match[1]) * { s: 1, m: 60, h: 3_600 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
}

/**
 * Where the audit chain's signed head is kept outside the database: --nats URL, else NATS_URL,
 * else the auditor URL `npm start` leaves in the state directory; the stream from --head-stream
 * or MAYFLY_AUDIT_HEAD_STREAM.
 */
function headSource(context: CommandContext): { url: string; stream: { stream: string; subject: string } } {
  const saved = join(context.stateDir, 'nats-auditor.url');
  const url = context.flags.nats ?? process.env['NATS_URL'] ?? (existsSync(saved) ? readFileSync(saved, 'utf8').trim() : DEFAULT_NATS_URL);
  const settings = auditHeadStreamSettings();
  return { url, stream: { stream: context.flags.headStream ?? settings.stream, subject: context.flags.headSubject ?? settings.subject } };
}

/** The external record, or why there is none (NATS unreachable: completeness is then unproven). */
async function readExternalRecord(context: CommandContext): Promise<{ external?: ExternalRecord; unavailable?: string }> {
  const source = headSource(context);
  const maxHeadAgeMs = parseSeconds(context.flags.maxHeadAge, '--max-head-age', DEFAULT_MAX_HEAD_AGE_SECONDS) * 1000;
  let nats;
  try {
    nats = await connectBus(source.url, 'mayfly-audit-verify');
  } catch (error) {
    return { unavailable: `cannot read the head from NATS: ${(error as Error).message}` };
  }
  try {
    const text = await readAuditHead(nats, source.stream);
    return { external: { head: text === undefined ? undefined : decodeChainHead(text), now: new Date(), maxHeadAgeMs } };
  } catch (error) {
    // A stream that is gone is itself a finding: the record was deleted, or never kept.
    if (error instanceof AuditHeadMissing) return { external: { head: undefined, now: new Date(), maxHeadAgeMs } };
    return { unavailable: `cannot read the head from stream ${source.stream.stream}: ${(error as Error).message}` };
  } finally {
    await nats.close().catch(() => undefined);
  }
}

/**
 * `mayfly audit verify`: checks the whole audit trail against its hash chain, the audit
 * service's signed checkpoints and the signed head kept on NATS, and names every edited,
 * deleted, inserted, reordered or truncated record (the earliest first). Exit code 1 when
 * anything is wrong; 2 when nothing is wrong in what is there but completeness cannot be proven
 * (no trusted key, or no external head); 0 only when the trail is proven intact and complete.
 */
export async function verify(context: CommandContext): Promise<void> {
  const url = context.flags.databaseUrl ?? new EnvReader(process.env, 'mayfly CLI').read(DATABASE_URL);
  const keys = trustedKeys(context);
  const { external, unavailable } = await readExternalRecord(context);
  const db = createDatabase({ url, maxConnections: 1, applicationName: 'mayfly-audit-verify' });
  try {
    const { links, events, checkpoints } = await readAuditChain(db);
    const started = performance.now();
    const report = verifyAuditChain({ links, events, checkpoints, trustedKeys: keys, external, externalUnavailable: unavailable });
    const seconds = (performance.now() - started) / 1000;
    context.out.say(`${redactUrl(url)}: ${report.events} events, ${report.links} chain links, ${report.checkpointsChecked} checkpoints${external?.head ? `, external head at position ${external.head.position} (signed ${external.head.signedAt.toISOString()})` : ''}`);
    if (report.problems.length > 0) {
      context.out.table(report.problems.map((problem) => ({ sequence: problem.sequence, problem: problem.kind, detail: problem.detail })));
    } else if (report.completeness.proven) {
      context.out.say(`the audit trail is intact and complete through position ${report.completeness.through} (head signed ${report.completeness.signedAt.toISOString()})`);
    } else {
      context.out.say(`no tampering found in what is there, but completeness is NOT proven: ${report.completeness.reason}`);
    }
    const intact = report.problems.length === 0 && report.completeness.proven;
    context.out.document({ ...report, intact, trustedKey: keys?.[0] ?? null, verifySeconds: seconds });
    if (report.problems.length > 0) process.exitCode = 1;
    else if (!report.completeness.proven) process.exitCode = 2;
  } finally {
    await db.destroy();
  }
}

/** "2026-11-22T10:00:00Z", or a time ago: "30m", "2h", "7d". */
export function parseTime(value: string | undefined, flag: string, now = Date.now()): Date | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)(s|m|h|d)$/.exec(value);
  if (relative) return new Date(now - Number(relative[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd']);
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new Error(`${flag} must be an ISO-8601 time or an age like 30m, 2h, 7d (not ${JSON.stringify(value)})`);
  return time;
}

/** The filters every audit query command shares (--grant, --task, --workload, --kind, --since, --until). */
function filters(context: CommandContext): Partial<ListEventsRequest> {
  return {
    grantId: context.flags.grant ?? '',
    taskId: context.flags.task ?? '',
    workload: context.flags.workload ?? '',
    kinds: context.flags.kind ? context.flags.kind.split(',').map((kind) => kind.trim()).filter(Boolean) : [],
    since: parseTime(context.flags.since, '--since'),
    until: parseTime(context.flags.until, '--until'),
  };
}

const withAudit = <T>(context: CommandContext, use: (client: AuditServiceClient) => Promise<T>): Promise<T> => asOperator(context, AuditServiceClient, 'audit', use);

const list = (client: AuditServiceClient, request: Partial<ListEventsRequest>) => callUnary(client, client.listEvents, ListEventsRequest.fromPartial(request), { target: 'audit' });

function row(event: AuditEvent): Record<string, string> {
  return {
    sequence: String(event.sequence),
    occurred: event.occurredAt?.toISOString() ?? '',
    kind: event.kind,
    actor: event.actor,
    outcome: AuditOutcome[event.outcome]?.replace('AUDIT_OUTCOME_', '').toLowerCase() ?? '',
    grant: event.grantId,
    task: event.taskId,
  };
}

/** One event as a JSON line for a SIEM: every field, times in ISO-8601. */
export function jsonLine(event: AuditEvent): string {
  return JSON.stringify({ ...AuditEvent.toJSON(event) as object, sequence: event.sequence });
}

function limitFlag(context: CommandContext, fallback: number): number {
  const limit = context.flags.limit === undefined ? fallback : Number(context.flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`--limit must be a positive whole number, not ${JSON.stringify(context.flags.limit)}`);
  return limit;
}

/** `mayfly audit search [filters] [--limit N]`: matching events, oldest first (default 100). */
export async function search(context: CommandContext): Promise<void> {
  const wanted = limitFlag(context, 100);
  const events = await withAudit(context, async (client) => {
    const found: AuditEvent[] = [];
    let pageToken = '';
    do {
      const page = await list(client, { ...filters(context), limit: Math.min(1000, wanted - found.length), pageToken });
      found.push(...page.events);
      pageToken = page.nextPageToken;
    } while (pageToken && found.length < wanted);
    return found;
  });
  if (events.length === 0) context.out.say('no matching events');
  context.out.table(events.map(row));
  context.out.document({ events: events.map((event) => JSON.parse(jsonLine(event)) as unknown) });
}

/** `mayfly audit tail [--limit N] [--follow] [filters]`: the newest events; --follow keeps printing new ones. */
export async function tail(context: CommandContext): Promise<void> {
  await withAudit(context, async (client) => {
    const newest = await list(client, { ...filters(context), limit: Math.min(1000, limitFlag(context, 20)), newestFirst: true });
    const print = (events: readonly AuditEvent[]): void => {
      for (const event of events) process.stdout.write(`${context.flags.json ? jsonLine(event) : Object.values(row(event)).join('  ')}\n`);
    };
    const shown = [...newest.events].reverse();
    print(shown);
    if (!context.flags.follow) return;
    let last = shown.at(-1)?.sequence ?? 0;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      let page;
      do {
        page = await list(client, { ...filters(context), limit: 1000, afterSequence: last });
        print(page.events);
        last = page.events.at(-1)?.sequence ?? last;
      } while (page.nextPageToken);
    }
  });
}

/** `mayfly audit export [filters] [--out FILE]`: every matching event as JSON lines (stdout by default). */
export async function exportEvents(context: CommandContext): Promise<void> {
  const out = context.flags.out ? createWriteStream(context.flags.out, { mode: 0o600 }) : process.stdout;
  let count = 0;
  await withAudit(context, async (client) => {
    let pageToken = '';
    do {
      const page = await list(client, { ...filters(context), limit: 1000, pageToken });
      for (const event of page.events) out.write(`${jsonLine(event)}\n`);
      count += page.events.length;
      pageToken = page.nextPageToken;
    } while (pageToken);
  });
  if (out !== process.stdout) {
    await new Promise<void>((resolve, reject) => (out as ReturnType<typeof createWriteStream>).end((error?: Error | null) => (error ? reject(error) : resolve())));
    process.stderr.write(`exported ${count} events to ${context.flags.out}\n`);
  }
}

/**
 * `mayfly audit keygen --out FILE` (and `mayfly revocation keygen`): an Ed25519 private JWK,
 * mode 0600, unless FILE exists (safe in an init job). For the audit service's checkpoint key
 * (MAYFLY_AUDIT_CHECKPOINT_KEY_FILE; give `mayfly audit verify --public-key` the same file or its
 * public half) and the revocation service's feed key (MAYFLY_REVOCATION_FEED_KEY_FILE).
 */
export async function keygen(context: CommandContext): Promise<void> {
  const file = context.flags.out;
  if (!file) throw new Error('usage: mayfly audit keygen --out FILE (or mayfly revocation keygen --out FILE)');
  if (existsSync(file)) {
    const { x } = JSON.parse(readFileSync(file, 'utf8')) as { x?: string };
    context.out.say(`${file} already holds a key (public ${x}): nothing to do`);
    context.out.document({ file, publicKey: x, created: false });
    return;
  }
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as { x: string };
  writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  context.out.say(`wrote ${file} (public ${jwk.x})`);
  context.out.document({ file, publicKey: jwk.x, created: true });
}
