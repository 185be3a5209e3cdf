import { listAuditChainLinks, listAuditCheckpoints, listAuditContentHashes, type Database, type Kysely } from '@mayfly/db';
import type { ChainLink, StoredCheckpoint, StoredEvent } from './chain-verification.js';

const PAGE = 5_000;

type AuditChain = { links: ChainLink[]; events: StoredEvent[]; checkpoints: StoredCheckpoint[] };

/**
 * Everything verifyAuditChain needs, read page by page — the chain, every event's content hash,
 * the checkpoints — in one read-only REPEATABLE READ snapshot. Read one after the other, a live
 * trail's events appended between the reads looked like events inserted behind the log's back.
 */
export async function readAuditChain(db: Kysely<Database>): Promise<AuditChain> {
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute((snapshot) => readPages(snapshot));
}

async function readPages(db: Kysely<Database>): Promise<AuditChain> {
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
    previousPosition: row.previous_position ?? undefined,
  }));
  return { links, events, checkpoints };
}
