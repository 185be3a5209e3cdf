import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acceptsAnonymous, connectBus } from '@mayfly/bus';
import { isListening, resolveInfrastructure, type Infrastructure } from '@mayfly/mesh';

// Issue 20, point 3b (red team): when something already listened on 4222, `npm start` used it as
// it was — there, anyone read pending approvals, forged revocations and deleted the stream. Now
// npm start never runs Mayfly on a NATS that lets anyone in unless told to.

const DATABASE_URL = `${(process.env['MAYFLY_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres').replace(/\/[^/]*$/, '')}/postgres`;
const started: Infrastructure[] = [];
afterAll(async () => {
  for (const infra of started) await infra.stop();
});

describe('38 npm start and NATS', () => {
  it('refuses a NATS_URL that accepts anyone, saying what to do', async () => {
    expect(await isListening('127.0.0.1', 4222)).toBe(true); // the machine's NATS: no users
    expect(await acceptsAnonymous('nats://127.0.0.1:4222')).toBe(true);
    await expect(resolveInfrastructure(mkdtempSync(join(tmpdir(), 'mayfly-38-')), { DATABASE_URL, NATS_URL: 'nats://127.0.0.1:4222', PATH: process.env['PATH'] })).rejects.toThrow(
      /accepts connections without credentials.*MAYFLY_ALLOW_UNAUTHENTICATED_NATS=true/s,
    );
  });

  it('uses it only when told to (MAYFLY_ALLOW_UNAUTHENTICATED_NATS=true)', async () => {
    const infra = await resolveInfrastructure(mkdtempSync(join(tmpdir(), 'mayfly-38-')), { DATABASE_URL, NATS_URL: 'nats://127.0.0.1:4222', MAYFLY_ALLOW_UNAUTHENTICATED_NATS: 'true', PATH: process.env['PATH'] });
    started.push(infra);
    expect(infra.natsUrl).toBe('nats://127.0.0.1:4222');
    expect(infra.description.join(' ')).toMatch(/not checked for authentication/);
  });

  it('with 4222 taken and no NATS_URL, starts its own nats-server with users on another port', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'mayfly-38-'));
    const infra = await resolveInfrastructure(stateDir, { DATABASE_URL, PATH: process.env['PATH'] });
    started.push(infra);
    const port = Number(new URL(infra.natsUrl).port);
    expect(port).not.toBe(4222);
    expect(infra.description.join(' ')).toMatch(/4222 is taken/);
    expect(await acceptsAnonymous(infra.natsUrl)).toBe(false);
    // Each role has its own user; an edge cannot publish where revocations go.
    expect(new Set([infra.natsUrl, infra.edgeNatsUrl, infra.issuanceNatsUrl, infra.auditNatsUrl, infra.auditorNatsUrl]).size).toBe(5);
    const edge = await connectBus(infra.edgeNatsUrl, 'e2e-38-edge');
    const denied = new Promise<string>((resolve) => {
      void (async () => {
        for await (const status of edge.status()) if (status.type === 'error') resolve(String((status as { error?: unknown }).error ?? status.type));
      })();
    });
    edge.publish('mayfly.revocations.grant.forged', 'x');
    await edge.flush();
    expect(await Promise.race([denied, new Promise((resolve) => setTimeout(() => resolve('no error'), 2_000))])).toMatch(/permissions violation/i);
    await edge.close();
    // The auditor's URL is kept (owner-only) for `mayfly audit verify`.
    expect(readFileSync(join(stateDir, 'nats-auditor.url'), 'utf8').trim()).toBe(infra.auditorNatsUrl);
  });
});
