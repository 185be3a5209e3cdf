import { createHash } from 'node:crypto';
import { checkpointSignatureValid, ed25519PublicKey } from './checkpoint.js';

/** One link of the chain as stored (audit_chain), in chain order. */
export interface ChainLink {
  readonly position: string;
  readonly sequence: string;
  readonly contentHash: Buffer;
  readonly chainHash: Buffer;
}

/** An event as stored now: its sequence and the hash of its content (audit_content_hash). */
export interface StoredEvent {
  readonly sequence: string;
  readonly contentHash: Buffer;
}

export interface StoredCheckpoint {
  readonly position: string;
  readonly chainHash: Buffer;
  readonly signedAt: Date;
  readonly publicKey: string;
  readonly signature: Buffer;
}

export type ChainProblem =
  | { kind: 'edited'; sequence: string; detail: string }
  | { kind: 'deleted'; sequence: string; detail: string }
  | { kind: 'inserted'; sequence: string; detail: string }
  | { kind: 'reordered'; sequence: string; detail: string }
  | { kind: 'chain-altered'; sequence: string; detail: string }
  | { kind: 'checkpoint-mismatch'; sequence: string; detail: string };

export interface ChainReport {
  readonly links: number;
  readonly events: number;
  readonly checkpointsChecked: number;
  /** Every problem found, the earliest (by sequence) first. */
  readonly problems: readonly ChainProblem[];
}

const GENESIS = Buffer.alloc(32);

/**
 * Checks the audit trail against its chain and the signed checkpoints:
 * - each link's chain hash must follow from the previous one (else the chain table was altered);
 * - each linked event must exist (deleted) with the content it had (edited) — or, if its content
 *   is now another linked event's, in the place it had (reordered);
 * - every event must have a link (inserted without going through the log);
 * - each checkpoint must match the link at its position and carry a valid signature by a trusted
 *   key: an attacker who rewrites the events and the whole chain after them still cannot make a
 *   signed checkpoint agree.
 * Pure: the caller reads the rows.
 */
export function verifyAuditChain(input: {
  links: readonly ChainLink[];
  events: readonly StoredEvent[];
  checkpoints: readonly StoredCheckpoint[];
  /** Public keys (JWK x) whose signatures are trusted; undefined: any key the rows name (signature still checked). */
  trustedKeys?: readonly string[] | undefined;
}): ChainReport {
  const problems: ChainProblem[] = [];
  const eventBySequence = new Map(input.events.map((event) => [event.sequence, event]));
  const linkedContent = new Map(input.links.map((link) => [link.contentHash.toString('hex'), link.sequence]));
  const chainAt = new Map<string, { chainHash: Buffer; sequence: string }>();
  let previous: Buffer = GENESIS;
  for (const link of input.links) {
    const expected = createHash('sha256').update(Buffer.concat([previous, link.contentHash])).digest();
    if (!expected.equals(link.chainHash)) problems.push({ kind: 'chain-altered', sequence: link.sequence, detail: `chain link at position ${link.position} does not follow from the one before it` });
    previous = link.chainHash;
    chainAt.set(link.position, { chainHash: link.chainHash, sequence: link.sequence });
    const event = eventBySequence.get(link.sequence);
    if (!event) {
      problems.push({ kind: 'deleted', sequence: link.sequence, detail: `event ${link.sequence} is in the chain but no longer in the log` });
      continue;
    }
    if (event.contentHash.equals(link.contentHash)) continue;
    const original = linkedContent.get(event.contentHash.toString('hex'));
    problems.push(
      original !== undefined && original !== link.sequence
        ? { kind: 'reordered', sequence: link.sequence, detail: `event ${link.sequence} now holds what was recorded as event ${original}` }
        : { kind: 'edited', sequence: link.sequence, detail: `event ${link.sequence} differs from what was recorded` },
    );
  }
  const linked = new Set(input.links.map((link) => link.sequence));
  for (const event of input.events) {
    if (!linked.has(event.sequence)) problems.push({ kind: 'inserted', sequence: event.sequence, detail: `event ${event.sequence} was never appended through the log (it has no chain link)` });
  }
  for (const checkpoint of input.checkpoints) {
    const at = chainAt.get(checkpoint.position);
    const trusted = input.trustedKeys === undefined || input.trustedKeys.includes(checkpoint.publicKey);
    const signed = trusted && checkpointSignatureValid(checkpoint, checkpoint.signature, ed25519PublicKey(checkpoint.publicKey));
    if (!signed) {
      problems.push({ kind: 'checkpoint-mismatch', sequence: at?.sequence ?? '0', detail: `checkpoint at position ${checkpoint.position} is not signed by a trusted key` });
    } else if (!at || !at.chainHash.equals(checkpoint.chainHash)) {
      problems.push({ kind: 'checkpoint-mismatch', sequence: at?.sequence ?? '0', detail: `the chain at position ${checkpoint.position} is not what the audit service signed at ${checkpoint.signedAt.toISOString()}: history before it was rewritten` });
    }
  }
  problems.sort((a, b) => (BigInt(a.sequence) < BigInt(b.sequence) ? -1 : BigInt(a.sequence) > BigInt(b.sequence) ? 1 : 0));
  return { links: input.links.length, events: input.events.length, checkpointsChecked: input.checkpoints.length, problems };
}
