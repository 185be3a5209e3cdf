import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyAuditChain, type ChainLink, type StoredEvent } from './chain-verification.js';
import { signCheckpoint } from '@mayfly/model';

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest();

/** A trail of n events and its chain, as the database makes them. */
function trail(n: number) {
  const events: StoredEvent[] = Array.from({ length: n }, (_, i) => ({ sequence: String(i + 1), contentHash: sha(`event ${i + 1}`) }));
  let previous = Buffer.alloc(32);
  const links: ChainLink[] = events.map((event, i) => {
    previous = sha(Buffer.concat([previous, event.contentHash]));
    return { position: String(i + 1), sequence: event.sequence, contentHash: event.contentHash, chainHash: previous };
  });
  return { events, links };
}

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const x = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
function checkpointAt(link: ChainLink) {
  const checkpoint = { position: link.position, chainHash: link.chainHash, signedAt: new Date('2026-01-01T00:00:00Z') };
  return { ...checkpoint, publicKey: x, signature: signCheckpoint(checkpoint, privateKey) };
}

describe('verifyAuditChain', () => {
  it('passes an untouched trail with a valid checkpoint', () => {
    const { events, links } = trail(5);
    expect(verifyAuditChain({ events, links, checkpoints: [checkpointAt(links[4]!)], trustedKeys: [x] }).problems).toEqual([]);
  });

  it('names an edited, a deleted, an inserted and a reordered event, earliest first', () => {
    const { events, links } = trail(8);
    const tampered = events
      .filter((event) => event.sequence !== '4') // deleted
      .map((event) => (event.sequence === '2' ? { ...event, contentHash: sha('changed') } : event)) // edited
      .map((event) => (event.sequence === '6' ? { ...event, contentHash: events[6]!.contentHash } : event.sequence === '7' ? { ...event, contentHash: events[5]!.contentHash } : event)); // 6 ⇄ 7
    tampered.push({ sequence: '9', contentHash: sha('forged') }); // inserted
    const report = verifyAuditChain({ events: tampered, links, checkpoints: [] });
    expect(report.problems.map((problem) => `${problem.kind} ${problem.sequence}`)).toEqual(['edited 2', 'deleted 4', 'reordered 6', 'reordered 7', 'inserted 9']);
  });

  it('catches a rewritten chain by the signed checkpoint, and a checkpoint by an untrusted key', () => {
    const original = trail(5);
    const checkpoint = checkpointAt(original.links[4]!);
    // The attacker edits event 3 and recomputes every link after it: the chain is consistent again.
    const events = original.events.map((event) => (event.sequence === '3' ? { ...event, contentHash: sha('changed') } : event));
    let previous = Buffer.alloc(32);
    const links = events.map((event, i) => {
      previous = sha(Buffer.concat([previous, event.contentHash]));
      return { position: String(i + 1), sequence: event.sequence, contentHash: event.contentHash, chainHash: previous };
    });
    expect(verifyAuditChain({ events, links, checkpoints: [checkpoint], trustedKeys: [x] }).problems.map((p) => p.kind)).toEqual(['checkpoint-mismatch']);
    const other = generateKeyPairSync('ed25519');
    const forged = { ...checkpointAt(links[4]!), publicKey: (other.publicKey.export({ format: 'jwk' }) as { x: string }).x };
    forged.signature = signCheckpoint(forged, other.privateKey);
    expect(verifyAuditChain({ events, links, checkpoints: [forged], trustedKeys: [x] }).problems.map((p) => p.detail)).toEqual([expect.stringContaining('not signed by a trusted key')]);
  });
});
