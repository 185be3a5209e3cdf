import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CREDENTIAL_REAPER_CONSUMER,
  RevocationPublisher,
  followRevocationsDurably,
  ensureAuditHeadStream,
  ensureRevocationStream,
  feedSigner,
  grantRevocationSubject,
  heartbeatSubject,
  natsAuthorizationConfig,
  publishAuditHead,
  readAuditHead,
  readStreamSnapshot,
  staticFeedKeys,
  subscribeRevocations,
} from '@mayfly/bus';
import { generateKeyPairSync } from 'node:crypto';
import { freePort, isListening } from '@mayfly/mesh';
import { RevocationEvent } from '@mayfly/proto';
import { eventually } from '../support/test-mesh.js';

// Step 12: NATS permissions. A real nats-server with JetStream runs with Mayfly's authorization
// config: the revocation service may publish revocations and manage the streams; an edge may
// follow the stream and read the marker, and cannot publish, purge or delete anything.

const STREAM = { stream: 'MAYFLY_PERMS', subjectPrefix: 'mayfly.perms', auditHead: { stream: 'MAYFLY_PERMS_AUDIT_HEAD', subject: 'mayfly.perms-audit.head' } };
const USERS = {
  revocation: { user: 'revocation', password: 'rev-secret' },
  edge: { user: 'edge', password: 'edge-secret' },
  issuance: { user: 'issuance', password: 'issuance-secret' },
  audit: { user: 'audit', password: 'audit-secret' },
  auditor: { user: 'auditor', password: 'auditor-secret' },
};
// The revocation service's feed key: edges act only on what it signed.
const SIGNER = feedSigner(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as { x: string; d: string });
let server: ChildProcess;
let port: number;
let revocation: NatsConnection;
let edge: NatsConnection;
let issuance: NatsConnection;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mayfly-nats-perms-'));
  port = await freePort();
  writeFileSync(join(dir, 'nats.conf'), `listen: "127.0.0.1:${port}"\njetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }\n${natsAuthorizationConfig(USERS, STREAM)}`);
  server = spawn('nats-server', ['-c', join(dir, 'nats.conf')], { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  while (!(await isListening('127.0.0.1', port))) {
    if (Date.now() > until) throw new Error('nats-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  revocation = await connect({ servers: `127.0.0.1:${port}`, user: USERS.revocation.user, pass: USERS.revocation.password });
  edge = await connect({ servers: `127.0.0.1:${port}`, user: USERS.edge.user, pass: USERS.edge.password });
  issuance = await connect({ servers: `127.0.0.1:${port}`, user: USERS.issuance.user, pass: USERS.issuance.password });
  await ensureRevocationStream(revocation, { ...STREAM, retentionSeconds: 3600 });
});
afterAll(async () => {
  await issuance?.close();
  await edge?.close();
  await revocation?.close();
  server?.kill('SIGTERM');
});

const event = () => RevocationEvent.fromPartial({ id: crypto.randomUUID(), grantId: crypto.randomUUID(), tokenId: crypto.randomUUID(), notAfter: new Date(Date.now() + 60_000) });

describe('12 NATS permissions', () => {
  it('nobody gets in without credentials', async () => {
    await expect(connect({ servers: `127.0.0.1:${port}` })).rejects.toThrow(/authorization/i);
  });

  it('the revocation service publishes revocations and markers; an edge follows the stream and goes live on the marker', async () => {
    const publisher = new RevocationPublisher(revocation, STREAM.subjectPrefix, SIGNER);
    const first = event();
    await publisher.publish(first);
    const applied: string[] = [];
    const feed = await subscribeRevocations(edge, { ...STREAM, feedKeys: staticFeedKeys([SIGNER.publicJwk.x]), onEvent: (e) => applied.push(e.grantId), checkIntervalMs: 200 });
    const snapshot = (await readStreamSnapshot(revocation, STREAM.stream))!;
    await publisher.publishResyncMarker(snapshot);
    // Whole by the marker; live once a heartbeat confirms the edge has read to the stream's end.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(feed.state()).toBe('catching-up');
    await publisher.publishHeartbeat({ created: snapshot.created, lastSequence: snapshot.lastSequence });
    await feed.caughtUp;
    const second = event();
    await publisher.publish(second);
    await eventually(async () => applied.includes(second.grantId));
    expect(applied).toEqual([first.grantId, second.grantId]);
    expect(feed.state()).toBe('live');
    await feed.stop();
  });

  it('an edge cannot publish a revocation or a heartbeat, nor purge, delete or change the stream', async () => {
    const js = jetstream(edge, { timeout: 2_000 });
    await expect(js.publish(grantRevocationSubject(STREAM.subjectPrefix, crypto.randomUUID()), RevocationEvent.encode(event()).finish())).rejects.toThrow();
    const jsm = await jetstreamManager(edge, { timeout: 2_000 });
    await expect(jsm.streams.purge(STREAM.stream)).rejects.toThrow();
    await expect(jsm.streams.delete(STREAM.stream)).rejects.toThrow();
    await expect(jsm.streams.update(STREAM.stream, { max_age: 1 })).rejects.toThrow();
    // Nor delete consumers: not even another edge's (issue 20, point 10).
    const consumers = await jetstreamManager(revocation, { timeout: 2_000 });
    await consumers.consumers.add(STREAM.stream, { durable_name: 'someone-elses', ack_policy: 'none' as never });
    await expect(jsm.consumers.delete(STREAM.stream, 'someone-elses')).rejects.toThrow();
    expect((await consumers.consumers.info(STREAM.stream, 'someone-elses')).name).toBe('someone-elses');
    await consumers.consumers.delete(STREAM.stream, 'someone-elses');
    // Nor forge the revocation service's heartbeat (which would keep a cut-off edge trusting itself).
    const heard: string[] = [];
    const listener = edge.subscribe(heartbeatSubject(STREAM.subjectPrefix), {
      callback: (error, message) => {
        if (!error) heard.push(new TextDecoder().decode(message.data));
      },
    });
    await edge.flush();
    edge.publish(heartbeatSubject(STREAM.subjectPrefix), JSON.stringify({ created: 'forged', lastSequence: 0 }));
    await edge.flush(); // the forged one has reached the server (and been dropped) before the genuine one is sent
    await new RevocationPublisher(revocation, STREAM.subjectPrefix, SIGNER).publishHeartbeat({ created: 'genuine', lastSequence: 0 });
    // Positive control: the genuine heartbeat arrives, so the listener would have heard a forged one.
    await eventually(async () => heard.length > 0);
    await edge.flush();
    expect(heard.map((text) => (JSON.parse(text) as { created: string }).created)).toEqual(['genuine']);
    listener.unsubscribe();
    // The stream is untouched.
    const after = await readStreamSnapshot(revocation, STREAM.stream);
    expect(after!.lastSequence).toBeGreaterThanOrEqual(2);
  });

  it('issuance (which only announces approvals and break-glass alerts) can do nothing to revocations', async () => {
    const js = jetstream(issuance, { timeout: 2_000 });
    await expect(js.publish(grantRevocationSubject(STREAM.subjectPrefix, crypto.randomUUID()), RevocationEvent.encode(event()).finish())).rejects.toThrow();
    await expect(jetstreamManager(issuance, { timeout: 2_000 }).then((jsm) => jsm.streams.purge(STREAM.stream))).rejects.toThrow();
    // Nor forge the revocation service's heartbeat.
    const beats: string[] = [];
    const sub = edge.subscribe(heartbeatSubject(STREAM.subjectPrefix), {
      callback: (error, message) => {
        if (!error) beats.push(new TextDecoder().decode(message.data));
      },
    });
    await edge.flush();
    issuance.publish(heartbeatSubject(STREAM.subjectPrefix), JSON.stringify({ created: 'forged', lastSequence: 0 }));
    await issuance.flush();
    // Positive control: a genuine heartbeat sent after the forged one arrives, and alone.
    await new RevocationPublisher(revocation, STREAM.subjectPrefix, SIGNER).publishHeartbeat({ created: 'genuine', lastSequence: 0 });
    await eventually(async () => beats.length > 0);
    await edge.flush();
    expect(beats.map((text) => (JSON.parse(text) as { created: string }).created)).toEqual(['genuine']);
    sub.unsubscribe();
    expect((await readStreamSnapshot(revocation, STREAM.stream))!.lastSequence).toBeGreaterThanOrEqual(2);
  });

  // Issue 22: issuance's credential reaper reads revocations through its one durable consumer.
  it('issuance follows the revocation stream through its own durable consumer, and may create no other', async () => {
    const heard: string[] = [];
    const follower = await followRevocationsDurably(issuance, {
      ...STREAM,
      durable: CREDENTIAL_REAPER_CONSUMER,
      onEvent: async (revoked) => void heard.push(revoked.grantId),
      onError: () => undefined,
    });
    try {
      const sent = event();
      await new RevocationPublisher(revocation, STREAM.subjectPrefix, SIGNER).publish(sent);
      await eventually(async () => heard.includes(sent.grantId), 5_000, 20);
      await expect(followRevocationsDurably(issuance, { ...STREAM, durable: 'someone-else', onEvent: async () => undefined, onError: () => undefined })).rejects.toThrow();
      await expect(jetstreamManager(issuance, { timeout: 2_000 }).then((jsm) => jsm.consumers.delete(STREAM.stream, CREDENTIAL_REAPER_CONSUMER))).rejects.toThrow();
    } finally {
      await follower.stop();
    }
  });

  // Issue 20, point 1: the audit chain's head lives outside the database, out of reach of
  // everyone but the audit service — even of the revocation service, which manages its own streams.
  it('only the audit service publishes the audit head; nobody deletes or purges it; auditors only read it', async () => {
    const connectAs = (who: keyof typeof USERS) => connect({ servers: `127.0.0.1:${port}`, user: USERS[who].user, pass: USERS[who].password });
    const audit = await connectAs('audit');
    const auditor = await connectAs('auditor');
    try {
      await ensureAuditHeadStream(audit, STREAM.auditHead);
      await publishAuditHead(audit, STREAM.auditHead, 'head-1');
      expect(await readAuditHead(auditor, STREAM.auditHead)).toBe('head-1'); // positive control
      for (const [who, nc] of [['auditor', auditor], ['revocation', revocation], ['edge', edge], ['issuance', issuance]] as const) {
        await expect(publishAuditHead(nc, STREAM.auditHead, `forged by ${who}`, 1_000), who).rejects.toThrow();
      }
      for (const nc of [audit, revocation, auditor]) {
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        await expect(jsm.streams.purge(STREAM.auditHead.stream)).rejects.toThrow();
        await expect(jsm.streams.delete(STREAM.auditHead.stream)).rejects.toThrow();
        await expect(jsm.streams.deleteMessage(STREAM.auditHead.stream, 1)).rejects.toThrow();
      }
      expect(await readAuditHead(auditor, STREAM.auditHead)).toBe('head-1');
    } finally {
      await audit.close();
      await auditor.close();
    }
  });
});
