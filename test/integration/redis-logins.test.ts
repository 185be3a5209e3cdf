import { randomBytes, randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisLogins } from '@mayfly/connectors/redis';

/** Dynamic Redis ACL users against the machine's real Redis (issue 22, point 4). */
const URL = 'redis://127.0.0.1:6379';
const run = randomBytes(4).toString('hex');
const prefix = `orders-${run}`;
let logins: RedisLogins;

const grant = (actions: string[]) => ({ grantId: randomUUID(), actions, expiresAt: new Date(Date.now() + 300_000) });
const as = (user: string, password: string) => {
  const client = createClient({ url: URL, username: user, password, socket: { reconnectStrategy: false } });
  client.on('error', () => undefined);
  return client;
};

beforeAll(async () => {
  const admin = createClient({ url: URL });
  await admin.connect();
  await admin.set(`${prefix}:1`, 'ten');
  await admin.set(`secrets-${run}`, 'not yours');
  await admin.quit();
  logins = new RedisLogins({ name: 'redis:orders', adminUrl: URL, host: '127.0.0.1', port: 6379, actions: { read: [`~${prefix}:*`, '+get', '+ping'], write: [`~${prefix}:*`, '+set'] } });
});

afterAll(async () => {
  for (const grantId of (await logins?.listLive()) ?? []) await logins.destroy(grantId);
  await logins?.close();
  const admin = createClient({ url: URL });
  await admin.connect();
  await admin.del([`${prefix}:1`, `${prefix}:2`, `secrets-${run}`]);
  await admin.quit();
});

describe('Redis users per grant', () => {
  it("issues a user that may run its actions' commands on its keys, and Redis refuses the rest", async () => {
    await expect(logins.check()).resolves.toBeUndefined();
    const issued = await logins.issue(grant(['read']));
    const client = as(issued.user, issued.password);
    await client.connect();
    try {
      expect(await client.get(`${prefix}:1`)).toBe('ten');
      await expect(client.get(`secrets-${run}`)).rejects.toThrow(/NOPERM/);
      await expect(client.set(`${prefix}:2`, 'x')).rejects.toThrow(/NOPERM/);
    } finally {
      await client.quit();
    }
    await expect(as(issued.user, 'wrong').connect()).rejects.toThrow(/WRONGPASS/);
  });

  it('destroying the user closes its open connection and refuses AUTH; destroying again is a no-op', async () => {
    const given = grant(['read', 'write']);
    const issued = await logins.issue(given);
    const open = as(issued.user, issued.password);
    await open.connect();
    await open.set(`${prefix}:2`, 'twenty');
    expect(await logins.listLive()).toContain(given.grantId);
    await expect(logins.destroy(given.grantId)).resolves.toBe('destroyed');
    await expect(open.get(`${prefix}:1`)).rejects.toThrow();
    await expect(as(issued.user, issued.password).connect()).rejects.toThrow(/WRONGPASS/);
    expect(await logins.listLive()).not.toContain(given.grantId);
    await expect(logins.destroy(given.grantId)).resolves.toBe('absent');
  });

  it("lists only its own users: another resource's on the same server (other key patterns) is left alone", async () => {
    const other = new RedisLogins({ name: 'redis:sessions', adminUrl: URL, host: '127.0.0.1', port: 6379, actions: { read: [`~sessions-${run}:*`, '+get'] } });
    try {
      const mine = grant(['read', 'write']);
      const theirs = { ...grant(['read']) };
      await logins.issue(mine);
      await other.issue(theirs);
      expect(await logins.listLive()).toContain(mine.grantId);
      expect(await logins.listLive()).not.toContain(theirs.grantId);
      expect(await other.listLive()).toContain(theirs.grantId);
      expect(await other.listLive()).not.toContain(mine.grantId);
      await logins.destroy(mine.grantId);
      await other.destroy(theirs.grantId);
    } finally {
      await other.close();
    }
  });

  it('refuses an unmapped action, and an action map that would smuggle a password or user rule', async () => {
    await expect(logins.issue(grant(['flushall']))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field: 'actions' });
    const hostile = new RedisLogins({ name: 'redis:hostile', adminUrl: URL, host: '127.0.0.1', port: 6379, actions: { read: ['+get', 'nopass', '>known-password', 'allcommands on'] } });
    try {
      await expect(hostile.check()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('nopass') });
      const attempt = grant(['read']);
      await expect(hostile.issue(attempt)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      expect(await hostile.listLive()).not.toContain(attempt.grantId);
    } finally {
      await hostile.close();
    }
  });

  it('says Redis is unreachable, precisely', async () => {
    const away = new RedisLogins({ name: 'redis:away', adminUrl: 'redis://127.0.0.1:1', host: '127.0.0.1', port: 1, actions: { read: ['+get'] } });
    await expect(away.issue(grant(['read']))).rejects.toMatchObject({ code: 'ERR_DEPENDENCY_UNAVAILABLE', message: expect.stringContaining('redis:away') });
    await away.close();
  });
});
