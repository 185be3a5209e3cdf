import { createHash } from 'node:crypto';
import { chainHeadSignatureValid, checkpointSignatureValid, ed25519PublicKey, type SignedChainHead } from '@mayfly/model';

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
  /** The checkpoint before it ('0' for the first); undefined on checkpoints signed before v2. */
  readonly previousPosition?: string | undefined;
}

export type ChainProblem =
  | { kind: 'edited'; sequence: string; detail: string }
  | { kind: 'deleted'; sequence: string; detail: string }
  | { kind: 'inserted'; sequence: string; detail: string }
  | { kind: 'reordered'; sequence: string; detail: string }
  | { kind: 'chain-altered'; sequence: string; detail: string }
  | { kind: 'checkpoint-mismatch'; sequence: string; detail: string }
  /** The log ends before a position the audit service signed outside the database. */
  | { kind: 'truncated'; sequence: string; detail: string }
  /** Signed checkpoints are gone from the database. */
  | { kind: 'checkpoint-missing'; sequence: string; detail: string }
  /** The external head is older than the checkpoint interval allows, or it is not there at all. */
  | { kind: 'stale'; sequence: string; detail: string };

/**
 * Whether the trail is proven complete: only with a head kept outside the database, signed by a
 * trusted key, fresh, and agreeing with the log. Otherwise the report says why it cannot be.
 */
export type Completeness =
  | { readonly proven: true; readonly through: string; readonly signedAt: Date }
  | { readonly proven: false; readonly reason: string };

export interface ChainReport {
  readonly links: number;
  readonly events: number;
  readonly checkpointsChecked: number;
  /** Every problem found, the earliest (by sequence) first. */
  readonly problems: readonly ChainProblem[];
  readonly completeness: Completeness;
}

/** What the verifier was given from outside the database. */
export interface ExternalRecord {
  /** The newest signed head from the external record; undefined when the record holds none. */
  readonly head: SignedChainHead | undefined;
  /** Now, and how old the head may be: the audit service's checkpoint interval plus a grace. */
  readonly now: Date;
  readonly maxHeadAgeMs: number;
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
  /**
   * The head published outside the database. Undefined: no external record was given, and
   * completeness cannot be proven (a truncation would go unseen).
   */
  external?: ExternalRecord | undefined;
  /** Why there is no external record, for the report (e.g. "NATS unreachable: …"). */
  externalUnavailable?: string | undefined;
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
  problems.push(...checkpointGaps(input.checkpoints));
  const lastLink = input.links.at(-1);
  const headProblems = input.external ? checkExternalHead(input.external, chainAt, lastLink, input.checkpoints, input.trustedKeys) : [];
  problems.push(...headProblems);
  problems.sort((a, b) => (BigInt(a.sequence) < BigInt(b.sequence) ? -1 : BigInt(a.sequence) > BigInt(b.sequence) ? 1 : 0));
  return { links: input.links.length, events: input.events.length, checkpointsChecked: input.checkpoints.length, problems, completeness: completeness(input, problems) };
}

/** Each v2 checkpoint names the one before it: a name that is not its predecessor is a gap. */
function checkpointGaps(checkpoints: readonly StoredCheckpoint[]): ChainProblem[] {
  const problems: ChainProblem[] = [];
  let previous = '0';
  for (const checkpoint of checkpoints) {
    if (checkpoint.previousPosition !== undefined && checkpoint.previousPosition !== previous) {
      problems.push({
        kind: 'checkpoint-missing',
        sequence: '0',
        detail: `the checkpoint at position ${checkpoint.position} follows one at position ${checkpoint.previousPosition}, which is not in the database (the one before it there is at ${previous}): signed checkpoints were deleted`,
      });
    }
    previous = checkpoint.position;
  }
  return problems;
}

function checkExternalHead(
  external: ExternalRecord,
  chainAt: ReadonlyMap<string, { chainHash: Buffer; sequence: string }>,
  lastLink: ChainLink | undefined,
  checkpoints: readonly StoredCheckpoint[],
  trustedKeys: readonly string[] | undefined,
): ChainProblem[] {
  const head = external.head;
  const end = lastLink?.position ?? '0';
  if (!head) return [{ kind: 'stale', sequence: end === '0' ? '0' : lastLink!.sequence, detail: 'the external record holds no signed head: it was deleted, or the audit service never published one (it needs NATS)' }];
  const signed = head.publicKey !== '' && (trustedKeys === undefined || trustedKeys.includes(head.publicKey)) && chainHeadSignatureValid(head);
  if (!signed) return [{ kind: 'checkpoint-mismatch', sequence: '0', detail: `the external head (position ${head.position}) is not signed by a trusted key` }];
  const problems: ChainProblem[] = [];
  const at = chainAt.get(head.position);
  if (head.position !== '0' && !at) {
    problems.push({
      kind: 'truncated',
      sequence: lastLink?.sequence ?? '0',
      detail:
        BigInt(end) < BigInt(head.position)
          ? `the log ends at position ${end}, but the audit service signed position ${head.position} at ${head.signedAt.toISOString()}: ${BigInt(head.position) - BigInt(end)} or more records after position ${end} were removed`
          : `the chain has no link at position ${head.position}, which the audit service signed at ${head.signedAt.toISOString()}: records were removed and the chain continued without them`,
    });
  } else if (at && !at.chainHash.equals(head.chainHash)) {
    problems.push({ kind: 'checkpoint-mismatch', sequence: at.sequence, detail: `the chain at position ${head.position} is not what the audit service signed outside the database at ${head.signedAt.toISOString()}: history before it was rewritten` });
  }
  const newestCheckpoint = checkpoints.reduce((newest, checkpoint) => (BigInt(checkpoint.position) > newest ? BigInt(checkpoint.position) : newest), 0n);
  if (BigInt(head.checkpointPosition) > newestCheckpoint) {
    problems.push({
      kind: 'checkpoint-missing',
      sequence: '0',
      detail: `the audit service had signed a checkpoint at position ${head.checkpointPosition} (so says its head of ${head.signedAt.toISOString()}); the newest in the database is at ${newestCheckpoint}: checkpoints were deleted`,
    });
  }
  const ageMs = external.now.getTime() - head.signedAt.getTime();
  if (ageMs > external.maxHeadAgeMs) {
    problems.push({
      kind: 'stale',
      sequence: '0',
      detail: `the newest external head was signed at ${head.signedAt.toISOString()}, ${Math.round(ageMs / 1000)} s ago (more than ${Math.round(external.maxHeadAgeMs / 1000)} s): the audit service stopped signing, or its record is withheld — records after position ${head.position} are not proven`,
    });
  }
  return problems;
}

function completeness(input: { trustedKeys?: readonly string[] | undefined; external?: ExternalRecord | undefined; externalUnavailable?: string | undefined }, problems: readonly ChainProblem[]): Completeness {
  if (input.trustedKeys === undefined) return { proven: false, reason: 'no trusted checkpoint key was given: signatures were checked against the keys the rows name, which proves nothing against someone who can write the rows (pass --public-key)' };
  if (!input.external) return { proven: false, reason: `no external record of the chain's head${input.externalUnavailable ? ` (${input.externalUnavailable})` : ''}: a truncated log cannot be told from a complete one` };
  if (problems.length > 0 || !input.external.head) return { proven: false, reason: 'the trail has problems' };
  return { proven: true, through: input.external.head.position, signedAt: input.external.head.signedAt };
}
