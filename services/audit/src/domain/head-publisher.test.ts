import { type SignedChainHead, chainHeadSignatureValid } from '@mayfly/model';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HeadPublisher } from './head-publisher.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const key = { privateKey, publicKey: (publicKey.export({ format: 'jwk' }) as { x: string }).x };
const hash = (n: number) => Buffer.alloc(32, n);

/** A chain in memory (position → hash) and the external record. */
function world() {
  const chain = new Map<string, Buffer>();
  let head: { position: string; chainHash: Buffer } = { position: '0', chainHash: Buffer.alloc(32) };
  const published: SignedChainHead[] = [];
  const append = (to: number) => {
    for (let p = Number(head.position) + 1; p <= to; p++) chain.set(String(p), hash(p));
    head = { position: String(to), chainHash: hash(to) };
  };
  const truncateTo = (to: number) => {
    for (const position of [...chain.keys()]) if (Number(position) > to) chain.delete(position);
    head = { position: String(to), chainHash: chain.get(String(to)) ?? Buffer.alloc(32) };
  };
  const ports = {
    readHead: async () => head,
    chainHashAt: async (position: string) => chain.get(position),
    newestCheckpointPosition: async () => '0',
    readPublished: async () => published.at(-1),
    publish: async (signed: SignedChainHead) => void published.push(signed),
  };
  return { ports, published, append, truncateTo, chain, setHead: (position: number, chainHash: Buffer) => (head = { position: String(position), chainHash: chainHash as Buffer }) };
}

describe('HeadPublisher', () => {
  it('signs and publishes the head as the chain grows', async () => {
    const w = world();
    const publisher = new HeadPublisher(w.ports, key);
    w.append(3);
    expect(await publisher.publish(new Date())).toBe('published');
    w.append(7);
    expect(await publisher.publish(new Date())).toBe('published');
    expect(w.published.map((head) => head.position)).toEqual(['3', '7']);
    expect(w.published.every(chainHeadSignatureValid)).toBe(true);
  });

  it('refuses to sign over a truncation: a head moved back, or cut back and appended to again', async () => {
    const w = world();
    const publisher = new HeadPublisher(w.ports, key);
    w.append(10);
    await publisher.publish(new Date());
    w.truncateTo(6);
    expect(await publisher.publish(new Date())).toBe('refused: the log is behind a head already published');
    // The attacker appends after the cut (positions run on past the signed one).
    w.chain.set('11', hash(99));
    w.setHead(11, hash(99));
    expect(await publisher.publish(new Date())).toBe('refused: the log is behind a head already published');
    expect(w.published.map((head) => head.position)).toEqual(['10']);
  });

  it('resumes from the external record after a restart, so a truncation while it was down is refused too', async () => {
    const w = world();
    w.append(10);
    await new HeadPublisher(w.ports, key).publish(new Date());
    w.truncateTo(4);
    expect(await new HeadPublisher(w.ports, key).publish(new Date())).toBe('refused: the log is behind a head already published');
  });

  it('overlapping publications (an append\'s and the interval\'s) never read as a truncation', async () => {
    const w = world();
    w.append(5);
    // The first publication reads the head (5) slowly; meanwhile the chain grows to 8 and a
    // second publication reads it. Compared out of turn, 5 after a published 8 looks truncated.
    let calls = 0;
    const slowPorts = {
      ...w.ports,
      readHead: async () => {
        const head = await w.ports.readHead();
        if (calls++ === 0) await new Promise((resolve) => setTimeout(resolve, 30));
        return head;
      },
    };
    const publisher = new HeadPublisher(slowPorts, key);
    const first = publisher.publish(new Date());
    await new Promise((resolve) => setTimeout(resolve, 5));
    w.append(8);
    const second = publisher.publish(new Date());
    expect(await Promise.all([first, second])).toEqual(['published', 'published']);
    expect(w.published.map((head) => head.position)).toEqual(['5', '8']);
  });

  it('an empty chain published first is extended by the first appends (position 0 has no link)', async () => {
    const w = world();
    const publisher = new HeadPublisher(w.ports, key);
    expect(await publisher.publish(new Date())).toBe('published'); // position 0, the zero hash
    w.append(5);
    expect(await publisher.publish(new Date())).toBe('published');
    expect(w.published.map((head) => head.position)).toEqual(['0', '5']);
  });
});
