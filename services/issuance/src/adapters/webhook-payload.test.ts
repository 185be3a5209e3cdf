import { describe, expect, it } from 'vitest';
import type { Announcement } from '../domain/announcements.js';
import { retryDelayMs, signatureHeader, verifySignature, webhookBody, worthRetrying } from './webhook-payload.js';

const SECRET = 'a-shared-secret-of-at-least-32-characters';
const pending: Announcement = {
  event: 'approval.pending',
  grantId: 'g-1',
  link: 'https://console.example/grants/g-1',
  summary: 'spiffe://x/<!channel> asks to write on pg:orders & more',
  message: { grantId: 'g-1', workload: 'spiffe://x/<!channel>', rule: 'prod-writes' },
};

describe('webhook bodies', () => {
  it('json: the announcement with its event, delivery id and time', () => {
    expect(JSON.parse(webhookBody(pending, 'json', 'd-1', new Date('2026-12-04T10:00:00Z')))).toEqual({
      event: 'approval.pending',
      deliveryId: 'd-1',
      occurredAt: '2026-12-04T10:00:00.000Z',
      grantId: 'g-1',
      workload: 'spiffe://x/<!channel>',
      rule: 'prod-writes',
    });
  });

  it('slack: text, blocks and a button to the console page; names cannot become mentions or links', () => {
    const body = JSON.parse(webhookBody(pending, 'slack', 'd-1', new Date())) as { text: string; blocks: { type: string; text?: { text: string }; elements?: { url?: string }[] }[] };
    expect(body.text).toContain('Approval needed');
    expect(body.blocks.map((block) => block.type)).toEqual(['header', 'section', 'context', 'actions']);
    expect(body.blocks[1]!.text!.text).toBe('spiffe://x/&lt;!channel&gt; asks to write on pg:orders &amp; more');
    expect(body.blocks[3]!.elements![0]!.url).toBe('https://console.example/grants/g-1');
    const noLink = JSON.parse(webhookBody({ ...pending, link: undefined }, 'slack', 'd', new Date())) as { blocks: { type: string }[] };
    expect(noLink.blocks.map((block) => block.type)).not.toContain('actions');
  });
});

describe('webhook signatures', () => {
  const at = new Date('2026-12-04T10:00:00Z');
  const body = webhookBody(pending, 'json', 'd-1', at);
  const header = signatureHeader(SECRET, body, at);

  it('verify with the secret, for this body, within the tolerance', () => {
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, body, header, at)).toBe(true);
  });

  it('fail for another secret, a changed body, a changed time, or an old delivery replayed', () => {
    expect(verifySignature(`${SECRET}x`, body, header, at)).toBe(false);
    expect(verifySignature(SECRET, body.replace('prod-writes', 'dev-reads'), header, at)).toBe(false);
    expect(verifySignature(SECRET, body, header.replace(/t=(\d+)/, (_, t: string) => `t=${Number(t) + 1}`), at)).toBe(false);
    expect(verifySignature(SECRET, body, header, new Date(at.getTime() + 301_000))).toBe(false);
    expect(verifySignature(SECRET, body, 'v1=abc', at)).toBe(false);
  });
});

describe('webhook retries', () => {
  it('retry no answer, 408, 429 and 5xx; not other refusals', () => {
    expect([undefined, 408, 429, 500, 503].map(worthRetrying)).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 410].map(worthRetrying)).toEqual([false, false, false, false, false]);
  });

  it('back off from 1 s, doubling, to 60 s, with at most 20% jitter', () => {
    expect([1, 2, 3, 7, 20].map((attempt) => retryDelayMs(attempt, () => 0))).toEqual([1_000, 2_000, 4_000, 60_000, 60_000]);
    expect(retryDelayMs(1, () => 1)).toBe(1_200);
  });
});
