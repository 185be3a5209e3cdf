import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyAuditChain, type ChainLink, type StoredEvent } from '@mayfly/audit-trail';
import { createDatabase, listAuditChainLinks, listAuditCheckpoints, listAuditContentHashes, redactUrl } from '@mayfly/db';
import type { CommandContext } from '../command.js';

const PAGE = 5_000;

/**
 * The checkpoint key to trust: --public-key FILE (a JWK, public or private), else
 * MAYFLY_AUDIT_CHECKPOINT_KEY_FILE, else npm start's key in the state directory. Without one,
 * checkpoints are checked against the key they name (which shows a rewritten chain only if the
 * rewriter could not sign).
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

/**
 * `mayfly audit verify`: checks the whole audit trail against its hash chain and the audit
 * service's signed checkpoints, and names every edited, deleted, inserted or reordered record
 * (the earliest first). Exit code 1 when anything is wrong.
 */
export async function verify(context: CommandContext): Promise<void> {
  const url = context.flags.databaseUrl ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/mayfly';
  const keys = trustedKeys(context);
  const db = createDatabase({ url, maxConnections: 1, applicationName: 'mayfly-audit-verify' });
  try {
    const links: ChainLink[] = [];
    for (let after = '0'; ; ) {
      const page = await listAuditChainLinks(db, after, PAGE);
      links.push(...page.map((link) => ({ position: link.position, sequence: link.sequence, contentHash: link.content_hash, chainHash: link.chain_hash })));
      if (page.length < PAGE) break;
      after = page.at(-1)!.position;
    }
    const events: StoredEvent[] = [];
    for (let after = '0'; ; ) {
      const page = await listAuditContentHashes(db, after, PAGE);
      events.push(...page.map((event) => ({ sequence: event.sequence, contentHash: event.content_hash })));
      if (page.length < PAGE) break;
      after = page.at(-1)!.sequence;
    }
    const checkpoints = (await listAuditCheckpoints(db)).map((row) => ({
      position: row.position,
      chainHash: row.chain_hash,
      signedAt: row.signed_at,
      publicKey: row.public_key,
      signature: row.signature,
    }));
    const started = performance.now();
    const report = verifyAuditChain({ links, events, checkpoints, trustedKeys: keys });
    const seconds = (performance.now() - started) / 1000;
    context.out.say(`${redactUrl(url)}: ${report.events} events, ${report.links} chain links, ${report.checkpointsChecked} checkpoints${keys ? '' : ' (no trusted key given: checked against the keys they name)'}`);
    if (report.problems.length === 0) context.out.say('the audit trail is intact');
    else context.out.table(report.problems.map((problem) => ({ sequence: problem.sequence, problem: problem.kind, detail: problem.detail })));
    context.out.document({ ...report, intact: report.problems.length === 0, trustedKey: keys?.[0] ?? null, verifySeconds: seconds });
    if (report.problems.length > 0) process.exitCode = 1;
  } finally {
    await db.destroy();
  }
}
