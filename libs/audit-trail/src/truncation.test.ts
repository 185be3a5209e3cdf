import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyAuditChain, type ChainLink, type StoredCheckpoint, type StoredEvent } from './chain-verification.js';
import { decodeChainHead, encodeChainHead, signChainHead, signCheckpoint, type SignedChainHead } from '@mayfly/model';

// Red team (issue 20, point 1): as the database owner, in one transaction, three truncations
// each verified as "intact". With the head kept outside the database each one is named.

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest();
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const x = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
const NOW = new Date('2026-12-03T10:00:00Z');
const external = (head: SignedChainHead | undefined, now = NOW) => ({ head, now, maxHeadAgeMs: 180_000 });

/** 20 events, checkpoints after 5, 10 and 15 (v2: each names the one before), the head at 20. */
function world() {
  const events: StoredEvent[] = Array.from({ length: 20 }, (_, i) => ({ sequence: String(i + 1), contentHash: sha(`event ${i + 1}`) }));
  let previous = Buffer.alloc(32);
  const links: ChainLink[] = events.map((event, i) => {
    previous = sha(Buffer.concat([previous, event.contentHash]));
    return { position: String(i + 1), sequence: event.sequence, contentHash: event.contentHash, chainHash: previous };
  });
  const checkpoints: StoredCheckpoint[] = [];
  for (const at of [5, 10, 15]) {
    const checkpoint = { position: String(at), chainHash: links[at - 1]!.chainHash, signedAt: new Date(NOW.getTime() - (20 - at) * 1000), previousPosition: checkpoints.at(-1)?.position ?? '0' };
    checkpoints.push({ ...checkpoint, publicKey: x, signature: signCheckpoint(checkpoint, privateKey) });
  }
  const head = signChainHead({ position: '20', chainHash: links[19]!.chainHash, signedAt: new Date(NOW.getTime() - 1000), checkpointPosition: '15' }, privateKey, x);
  return { events, links, checkpoints, head };
}

const kinds = (report: ReturnType<typeof verifyAuditChain>) => report.problems.map((problem) => problem.kind);

describe('truncation against the external head', () => {
  it('an untouched trail is intact and proven complete through the head', () => {
    const { events, links, checkpoints, head } = world();
    const report = verifyAuditChain({ events, links, checkpoints, trustedKeys: [x], external: external(head) });
    expect(report.problems).toEqual([]);
    expect(report.completeness).toEqual({ proven: true, through: '20', signedAt: head.signedAt });
  });

  it('1: the events after the newest checkpoint deleted with their links → truncated', () => {
    const { events, links, checkpoints, head } = world();
    const report = verifyAuditChain({ events: events.slice(0, 15), links: links.slice(0, 15), checkpoints, trustedKeys: [x], external: external(head) });
    expect(kinds(report)).toEqual(['truncated']);
    expect(report.problems[0]!.detail).toMatch(/the log ends at position 15, but the audit service signed position 20/);
    expect(report.completeness.proven).toBe(false);
  });

  it('2: the newest checkpoint deleted with the events after the one before → truncated and checkpoint missing', () => {
    const { events, links, checkpoints, head } = world();
    const report = verifyAuditChain({ events: events.slice(0, 10), links: links.slice(0, 10), checkpoints: checkpoints.slice(0, 2), trustedKeys: [x], external: external(head) });
    expect(new Set(kinds(report))).toEqual(new Set(['truncated', 'checkpoint-missing']));
    expect(report.problems.map((problem) => problem.detail).join('\n')).toMatch(/signed a checkpoint at position 15 .* the newest in the database is at 10/);
  });

  it('3: every event, link and checkpoint deleted → truncated, not "0 events … intact"', () => {
    const { head } = world();
    const report = verifyAuditChain({ events: [], links: [], checkpoints: [], trustedKeys: [x], external: external(head) });
    expect(new Set(kinds(report))).toEqual(new Set(['truncated', 'checkpoint-missing']));
    expect(report.problems.find((problem) => problem.kind === 'truncated')!.detail).toMatch(/the log ends at position 0, but the audit service signed position 20/);
  });

  it('a checkpoint deleted from the middle leaves a gap', () => {
    const { events, links, checkpoints, head } = world();
    const report = verifyAuditChain({ events, links, checkpoints: [checkpoints[0]!, checkpoints[2]!], trustedKeys: [x], external: external(head) });
    expect(kinds(report)).toEqual(['checkpoint-missing']);
    expect(report.problems[0]!.detail).toMatch(/follows one at position 10, which is not in the database/);
  });

  it('a head older than the interval allows is stale; no head in the record is stale too', () => {
    const { events, links, checkpoints, head } = world();
    expect(kinds(verifyAuditChain({ events, links, checkpoints, trustedKeys: [x], external: external(head, new Date(NOW.getTime() + 10 * 60_000)) }))).toEqual(['stale']);
    expect(kinds(verifyAuditChain({ events, links, checkpoints, trustedKeys: [x], external: external(undefined) }))).toEqual(['stale']);
  });

  it('a head not signed by the trusted key counts for nothing', () => {
    const { events, links, checkpoints, head } = world();
    const other = generateKeyPairSync('ed25519');
    const forged = signChainHead({ ...head, position: '15', chainHash: links[14]!.chainHash }, other.privateKey, (other.publicKey.export({ format: 'jwk' }) as { x: string }).x);
    expect(kinds(verifyAuditChain({ events, links, checkpoints, trustedKeys: [x], external: external(forged) }))).toEqual(['checkpoint-mismatch']);
    const tampered = { ...head, position: '15' };
    expect(kinds(verifyAuditChain({ events, links, checkpoints, trustedKeys: [x], external: external(tampered) }))).toEqual(['checkpoint-mismatch']);
  });

  it('without an external record or a trusted key it says it cannot prove completeness', () => {
    const { events, links, checkpoints, head } = world();
    const noRecord = verifyAuditChain({ events: [], links: [], checkpoints: [], trustedKeys: [x], externalUnavailable: 'NATS unreachable' });
    expect(noRecord.problems).toEqual([]);
    expect(noRecord.completeness).toEqual({ proven: false, reason: expect.stringMatching(/no external record .*NATS unreachable.* a truncated log cannot be told from a complete one/) });
    const noKey = verifyAuditChain({ events, links, checkpoints, external: external(head) });
    expect(noKey.completeness).toEqual({ proven: false, reason: expect.stringMatching(/no trusted checkpoint key .* proves nothing/) });
  });

  it('a head survives its wire form', () => {
    const { head } = world();
    expect(decodeChainHead(encodeChainHead(head))).toEqual(head);
  });
});
