import { randomBytes, randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MariadbLogins } from '@mayfly/connectors/mariadb';

/** Dynamic MariaDB users against the machine's real MariaDB (issue 22, point 4). */
const SERVER = { host: '127.0.0.1', port: 3306 };
const ROOT = { ...SERVER, user: 'root', password: '' };
const run = randomBytes(4).toString('hex');
const database = `mayfly_logins_${run}`;
const reader = `orders_reader_${run}`;
const writer = `orders_writer_${run}`;
let root: mysql.Connection;
let logins: MariadbLogins;

const grant = (actions: string[]) => ({ grantId: randomUUID(), actions, expiresAt: new Date(Date.now() + 300_000) });
const connectAs = (user: string, password: string) => mysql.createConnection({ ...SERVER, user, password, database });

beforeAll(async () => {
  root = await mysql.createConnection({ ...ROOT, charset: 'UTF8MB4_GENERAL_CI' });
  await root.query(`CREATE DATABASE ${database}`);
  await root.query(`CREATE TABLE ${database}.orders (id int PRIMARY KEY, total decimal(10,2))`);
  await root.query(`INSERT INTO ${database}.orders VALUES (1, 10), (2, 20)`);
  await root.query(`CREATE ROLE ${reader}`);
  await root.query(`CREATE ROLE ${writer}`);
  await root.query(`GRANT SELECT ON ${database}.orders TO ${reader}`);
  await root.query(`GRANT SELECT, INSERT, UPDATE ON ${database}.orders TO ${writer}`);
  logins = new MariadbLogins({ name: 'mariadb:orders', admin: ROOT, ...SERVER, database, actions: { read: [reader], write: [writer] }, connectionLimit: 3 });
});

afterAll(async () => {
  for (const grantId of (await logins?.listLive()) ?? []) await logins.destroy(grantId);
  await logins?.close();
  await root?.query(`DROP DATABASE IF EXISTS ${database}`);
  await root?.query(`DROP ROLE IF EXISTS ${reader}`);
  await root?.query(`DROP ROLE IF EXISTS ${writer}`);
  await root?.end();
});

describe('MariaDB users per grant', () => {
  it('issues a user whose default role allows what its actions map to; MariaDB refuses the rest', async () => {
    await expect(logins.check()).resolves.toBeUndefined();
    const issued = await logins.issue(grant(['read']));
    expect(issued.user).toMatch(/^mayfly_g_[0-9a-f]{32}$/);
    const client = await connectAs(issued.user, issued.password);
    try {
      const [rows] = await client.query<mysql.RowDataPacket[]>('SELECT count(*) AS n FROM orders');
      expect(Number(rows[0]!['n'])).toBe(2);
      await expect(client.query('INSERT INTO orders VALUES (3, 30)')).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
    } finally {
      await client.end();
    }
    await expect(connectAs(issued.user, 'wrong-password')).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
  });

  it('combines several mapped roles; destroying the user kills its open connection and refuses new ones', async () => {
    const given = grant(['read', 'write']);
    const issued = await logins.issue(given);
    const open = await connectAs(issued.user, issued.password);
    open.on('error', () => undefined);
    await open.query('UPDATE orders SET total = total WHERE id = 1');
    expect(await logins.listLive()).toContain(given.grantId);
    await expect(logins.destroy(given.grantId)).resolves.toBe('destroyed');
    await expect(open.query('SELECT 1')).rejects.toThrow();
    await expect(connectAs(issued.user, issued.password)).rejects.toMatchObject({ code: expect.stringMatching(/^ER_ACCESS_DENIED/) }); // MariaDB words a dropped user's refusal either way
    expect(await logins.listLive()).not.toContain(given.grantId);
    await expect(logins.destroy(given.grantId)).resolves.toBe('absent');
    const [roles] = await root.query<mysql.RowDataPacket[]>('SELECT User FROM mysql.user WHERE User LIKE ?', [`${issued.user}%`]);
    expect(roles).toEqual([]);
  });

  it("lists only its own users: another resource's on the same server is left alone", async () => {
    const other = `other_reader_${run}`;
    await root.query(`CREATE ROLE ${other}`);
    const elsewhere = new MariadbLogins({ name: 'mariadb:elsewhere', admin: ROOT, ...SERVER, database, actions: { read: [other] } });
    try {
      const theirs = grant(['read']);
      await elsewhere.issue(theirs);
      const mine = grant(['read']);
      await logins.issue(mine);
      expect(await logins.listLive()).toContain(mine.grantId);
      expect(await logins.listLive()).not.toContain(theirs.grantId);
      expect(await elsewhere.listLive()).toEqual([theirs.grantId]);
      await elsewhere.destroy(theirs.grantId);
      await logins.destroy(mine.grantId);
    } finally {
      await elsewhere.close();
      await root.query(`DROP ROLE IF EXISTS ${other}`);
    }
  });

  it('refuses an unmapped action and an unknown role, leaving no user or role behind', async () => {
    const asked = grant(['drop-everything']);
    await expect(logins.issue(asked)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field: 'actions' });
    const broken = new MariadbLogins({ name: 'mariadb:broken', admin: ROOT, ...SERVER, database, actions: { read: ["nobody'; DROP DATABASE mysql; --"] } });
    try {
      await expect(broken.check()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      const attempt = grant(['read']);
      await expect(broken.issue(attempt)).rejects.toMatchObject({ code: 'ERR_DEPENDENCY_UNAVAILABLE' });
      const [left] = await root.query<mysql.RowDataPacket[]>('SELECT User FROM mysql.user WHERE User LIKE ?', [`mayfly_g_${attempt.grantId.replaceAll('-', '')}%`]);
      expect(left).toEqual([]);
    } finally {
      await broken.close();
    }
  });

  it('makes a login at once while a mass revocation is dropping 150 others: ending logins has connections of its own', async () => {
    const revoked = await Promise.all(Array.from({ length: 150 }, async () => {
      const made = grant(['read']);
      await logins.issue(made);
      return made.grantId;
    }));
    const usersDropped = async () => Number((await root.query<mysql.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Com_drop_user'"))[0][0]!['Value']);
    const before = await usersDropped();
    const destroying = Promise.all(revoked.map((grantId) => logins.destroy(grantId)));
    const newcomer = grant(['read']);
    await logins.issue(newcomer);
    const droppedMeanwhile = (await usersDropped()) - before;
    expect(await destroying).toEqual(revoked.map(() => 'destroyed'));
    const droppedInAll = (await usersDropped()) - before;
    expect(droppedInAll).toBeGreaterThanOrEqual(150);
    // In one pool the newcomer's five statements each queued behind every revoked login's next
    // statement, and it was made only once most of them were gone.
    expect(droppedMeanwhile, `${droppedMeanwhile} of ${droppedInAll} users dropped before the newcomer's login was made`).toBeLessThan(droppedInAll / 4);
    expect(await logins.exists(newcomer.grantId)).toBe(true);
    await logins.destroy(newcomer.grantId);
  }, 60_000);
});
