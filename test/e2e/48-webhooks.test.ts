import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callUnary, createClient } from '@mayfly/grpc';
import { freePort, type MeshReplica } from '@mayfly/mesh';
import { ensureDevPki } from '@mayfly/pki';
import { GrantStatus, IssuanceServiceClient, RequestGrantRequest } from '@mayfly/proto';
import { verifySignature } from '../../services/issuance/dist/adapters/webhook-payload.js';
import { PROD, RESOURCE, eventually, startTestMesh, type TestMesh } from '../support/test-mesh.js';

// Issue 25, point 4: approval requests and break-glass alerts posted to a webhook — signed with
// HMAC, retried with backoff, Slack-compatible on request, each linking to the request's page in
// the console — and never on a grant's path.

const SECRET = 'webhook-secret-for-the-e2e-receiver-0123456789';
const CONSOLE = 'https://console.e2e.mayfly.test';

interface Delivery {
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly answered: number;
}

/** A receiver over HTTPS (its own CA, given to issuance): answers 503 to a delivery's first two attempts, then 200; or as `mode` says. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  mode: 'flaky' | 'refuse' | 'hang' = 'flaky';
  private readonly attempts = new Map<string, number>();
  private server!: Server;
  url = '';
  caFile = '';

  async start(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'mayfly-webhook-'));
    const pki = await ensureDevPki(dir, 'receiver.test', ['webhook-receiver']);
    this.caFile = pki.caFile;
    this.server = createServer({ cert: readFileSync(pki.identity('webhook-receiver').certFile), key: readFileSync(pki.identity('webhook-receiver').keyFile) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (this.mode === 'hang') return; // never answers
        const id = String(req.headers['x-mayfly-delivery']);
        const attempt = (this.attempts.get(id) ?? 0) + 1;
        this.attempts.set(id, attempt);
        const answered = this.mode === 'refuse' ? 400 : attempt <= 2 ? 503 : 200;
        this.deliveries.push({ headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body: Buffer.concat(chunks).toString('utf8'), answered });
        res.writeHead(answered).end();
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `https://127.0.0.1:${port}/hooks/mayfly`;
  }

  of(grantId: string): Delivery[] {
    return this.deliveries.filter((delivery) => delivery.body.includes(grantId));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let t: TestMesh;
const receiver = new Receiver();
beforeAll(async () => {
  await receiver.start();
  t = await startTestMesh('webhooks', { env: { MAYFLY_WEBHOOK_URL: receiver.url, MAYFLY_WEBHOOK_SECRET: SECRET, MAYFLY_WEBHOOK_CA_FILE: receiver.caFile, MAYFLY_CONSOLE_URL: CONSOLE } });
}, 120_000);
afterAll(async () => {
  await t?.close();
  await receiver.close();
});

let n = 0;
async function requestChange(issuance: IssuanceServiceClient, more: Partial<RequestGrantRequest> = {}) {
  return callUnary(
    issuance,
    issuance.requestGrant,
    RequestGrantRequest.fromPartial({
      evidence: { oidcToken: await t.evidence(PROD.subject) },
      task: { id: `webhook-${++n}-${Date.now()}`, kind: 'change', reference: 'CHG-88', deadline: undefined },
      resource: RESOURCE,
      actions: ['write'],
      requestedTtlSeconds: 300,
      justification: 'secret plans for the orders table',
      ...more,
    }),
  );
}

describe('48 webhooks for the people in the loop', () => {
  it('posts a pending request, signed, retried with backoff under one delivery id, linking to its console page, without the justification', async () => {
    receiver.mode = 'flaky';
    const pending = await requestChange(t.issuance);
    expect(pending.grant!.status).toBe(GrantStatus.GRANT_STATUS_PENDING_APPROVAL);
    const grantId = pending.grant!.id;
    await eventually(async () => receiver.of(grantId).some((delivery) => delivery.answered === 200), 15_000, 100);
    const deliveries = receiver.of(grantId);
    expect(deliveries.map((delivery) => [delivery.headers['x-mayfly-attempt'], delivery.answered])).toEqual([['1', 503], ['2', 503], ['3', 200]]);
    expect(new Set(deliveries.map((delivery) => delivery.headers['x-mayfly-delivery'])).size).toBe(1);
    for (const delivery of deliveries) {
      expect(delivery.headers['x-mayfly-event']).toBe('approval.pending');
      expect(verifySignature(SECRET, delivery.body, delivery.headers['x-mayfly-signature']!)).toBe(true);
      expect(verifySignature('another-secret-another-secret-another', delivery.body, delivery.headers['x-mayfly-signature']!)).toBe(false);
    }
    const body = JSON.parse(deliveries[2]!.body) as Record<string, unknown>;
    expect(body).toMatchObject({ event: 'approval.pending', grantId, workload: PROD.spiffeId, rule: 'prod-writes', threshold: 2, link: `${CONSOLE}/grants/${grantId}`, resource: RESOURCE, actions: ['write'] });
    expect(deliveries[2]!.body).not.toContain('secret plans');
  }, 30_000);

  it('alerts a break-glass grant the same way', async () => {
    receiver.mode = 'flaky';
    const glass = await requestChange(t.issuance, { breakGlass: true, task: { id: `incident-${Date.now()}`, kind: 'incident', reference: 'INC-88', deadline: undefined } });
    const grantId = glass.grant!.id;
    await eventually(async () => receiver.of(grantId).some((delivery) => delivery.answered === 200), 15_000, 100);
    const delivered = receiver.of(grantId).at(-1)!;
    expect(delivered.headers['x-mayfly-event']).toBe('break_glass.issued');
    expect(JSON.parse(delivered.body)).toMatchObject({ event: 'break_glass.issued', severity: 'high', incidentReference: 'INC-88', reviewRequired: true, link: `${CONSOLE}/grants/${grantId}` });
  }, 30_000);

  it('gives up at once on a refusal (400), and a receiver that never answers does not hold the grant up', async () => {
    receiver.mode = 'refuse';
    const refused = await requestChange(t.issuance);
    await eventually(async () => receiver.of(refused.grant!.id).length === 1, 10_000, 100);
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // a retry would have come after ~1 s
    expect(receiver.of(refused.grant!.id).length).toBe(1);
    await eventually(async () => t.logLines.some((line) => line.includes(refused.grant!.id) && line.includes('given up')), 5_000, 100);

    receiver.mode = 'hang';
    const started = Date.now();
    const pending = await requestChange(t.issuance);
    expect(pending.grant!.status).toBe(GrantStatus.GRANT_STATUS_PENDING_APPROVAL);
    expect(Date.now() - started).toBeLessThan(2_000); // the 5 s webhook timeout is not on the grant's path
  }, 30_000);

  it('formats for Slack when asked: text, blocks and a button to the request in the console', async () => {
    receiver.mode = 'flaky';
    let replica: MeshReplica | undefined;
    let issuance: IssuanceServiceClient | undefined;
    try {
      replica = await t.mesh.startReplica('issuance', { env: { MAYFLY_WEBHOOK_FORMAT: 'slack' } });
      issuance = createClient(IssuanceServiceClient, replica.address, 'issuance');
      const pending = await requestChange(issuance);
      const grantId = pending.grant!.id;
      await eventually(async () => receiver.of(grantId).some((delivery) => delivery.answered === 200), 15_000, 100);
      const body = JSON.parse(receiver.of(grantId).at(-1)!.body) as { text: string; blocks: { type: string; elements?: { url?: string; text?: { text: string } }[] }[] };
      expect(body.text).toContain('Approval needed');
      expect(body.text).toContain(PROD.spiffeId);
      const button = body.blocks.find((block) => block.type === 'actions')!.elements![0]!;
      expect(button).toMatchObject({ url: `${CONSOLE}/grants/${grantId}`, text: { text: 'Review and answer' } });
    } finally {
      issuance?.close();
      await replica?.stop();
    }
  }, 60_000);
});
