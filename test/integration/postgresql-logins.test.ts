import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MayflyError } from '@mayfly/core';
import { loginName } from '@mayfly/connectors';
import { PostgresqlLogins } from '@mayfly/connectors/postgresql';

/**
 * Dynamic PostgreSQL logins against the machine's real PostgreSQL (issue 22, point 3): a login per
 * grant, a member of the mapped group roles only; the database itself refuses what the roles do
 * not allow; destroying it ends its open sessions and refuses new logins.
 */
const SERVER = { host: '127.0.0.1', port: 5432 };
const run = randomBytes(4).toString('hex');
const database = `mayfly_logins_${run}`;
const reader = `orders_reader_${run}`;
const writer = `orders_writer_${run}`;
const adminUrl = `postgres://postgres@${SERVER.host}:${SERVER.port}/${database}`;
let logins: PostgresqlLogins;

async function asOwner<T>(db: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...SERVER, user: 'postgres', database: db });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const login = (user: string, password: string) => new pg.Client({ ...SERVER, user, password, database });
const grant = (actions: string[], seconds = 300) => ({ grantId: randomUUID(), actions, expiresAt: new Date(Date.now() + seconds * 1000) });

beforeAll(async () => {
  await asOwner('postgres', (client) => client.query(`CREATE DATABASE ${database}`));
  await asOwner(database, async (client) => {
    await client.query('CREATE TABLE orders (id int PRIMARY KEY, total numeric)');
    await client.query('INSERT INTO orders VALUES (1, 10), (2, 20)');
    await client.query(`CREATE ROLE ${reader} NOLOGIN`);
    await client.query(`CREATE ROLE ${writer} NOLOGIN`);
    await client.query(`GRANT SELECT ON orders TO ${reader}`);
    await client.query(`GRANT SELECT, INSERT, UPDATE ON orders TO ${writer}`);
  });
  logins = new PostgresqlLogins({ name: 'pg:orders-db', adminUrl, ...SERVER, database, actions: { read: [reader], write: [writer] }, connectionLimit: 5 });
});

afterAll(async () => {
  for (const grantId of (await logins?.listLive()) ?? []) await logins.destroy(grantId);
  await logins?.close();
  await asOwner('postgres', async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await client.query(`DROP ROLE IF EXISTS ${reader}`);
    await client.query(`DROP ROLE IF EXISTS ${writer}`);
  });
});

describe('PostgreSQL logins per grant', () => {
  it('issues a login that can do what its actions map to, and the database refuses the rest', async () => {
    const issued = await logins.issue(grant(['read']));
    expect(issued).toMatchObject({ host: SERVER.host, port: SERVER.port, database });
    expect(issued.user).toMatch(/^mayfly_g_[0-9a-f]{32}$/);
    expect(Buffer.from(issued.password, 'base64url').length).toBeGreaterThanOrEqual(32);
    const client = login(issued.user, issued.password);
    await client.connect();
    try {
      expect((await client.query('SELECT count(*)::int AS n FROM orders')).rows[0].n).toBe(2);
      await expect(client.query('INSERT INTO orders VALUES (3, 30)')).rejects.toMatchObject({ code: '42501' }); // insufficient_privilege
    } finally {
      await client.end();
    }
    const attributes = await asOwner(database, (owner) =>
      owner.query('SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit FROM pg_roles WHERE rolname = $1', [issued.user]),
    );
    expect(attributes.rows[0]).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false, rolconnlimit: 5 });
  });

  it('destroying the login terminates its open session and refuses new logins; destroying again is a no-op', async () => {
    const given = grant(['read', 'write']);
    const issued = await logins.issue(given);
    const open = login(issued.user, issued.password);
    open.on('error', () => undefined); // the termination arrives as an error event
    await open.connect();
    await open.query('UPDATE orders SET total = total WHERE id = 1');
    expect(await logins.listLive()).toContain(given.grantId);

    const started = performance.now();
    await expect(logins.destroy(given.grantId)).resolves.toBe('destroyed');
    const tookMs = performance.now() - started;
    await expect(open.query('SELECT 1')).rejects.toThrow();
    await expect(login(issued.user, issued.password).connect()).rejects.toMatchObject({ code: expect.stringMatching(/^28/) }); // invalid authorization
    expect(await logins.listLive()).not.toContain(given.grantId);
    await expect(logins.destroy(given.grantId)).resolves.toBe('absent');
    expect(tookMs).toBeGreaterThan(0);
  });

  // VALID UNTIL bounds the password, so PostgreSQL enforces it only under password authentication;
  // this machine's server trusts local connections, so here the test reads the attribute instead.
  it('two reaper paths destroying the same login at once both succeed: the one that finds it gone says absent', async () => {
    // The trigger listener, the durable stream consumer and the reconciler may all act on one end
    // (the container test saw "role does not exist" retried forever by the consumer).
    for (let round = 0; round < 5; round++) {
      const given = grant(['read']);
      const issued = await logins.issue(given);
      const outcomes = await Promise.all([logins.destroy(given.grantId), logins.destroy(given.grantId), logins.destroy(given.grantId)]);
      expect(outcomes).toContain('destroyed');
      expect(outcomes.every((outcome) => outcome === 'destroyed' || outcome === 'absent')).toBe(true);
      const left = await asOwner(database, (owner) => owner.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [issued.user]));
      expect(left.rowCount).toBe(0);
    }
  });

  it('renewal moves VALID UNTIL (the password expires with the grant even if nothing destroys the login)', async () => {
    const brief = grant(['read'], 1);
    const issued = await logins.issue(brief);
    const later = new Date(Date.now() + 600_000);
    await logins.renew({ ...brief, expiresAt: later });
    const until = await asOwner(database, (owner) => owner.query<{ v: Date }>('SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1', [issued.user]));
    expect(Math.abs(until.rows[0]!.v.getTime() - later.getTime())).toBeLessThan(1_000);

  });

  it('refuses an action with no mapping and leaves no login behind', async () => {
    const asked = grant(['read', 'drop-everything']);
    const error = await logins.issue(asked).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MayflyError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', field: 'actions' });
    expect(await logins.listLive()).not.toContain(asked.grantId);
  });

  it('check() names a mapped role that does not exist, even one whose name is an injection attempt', async () => {
    await expect(logins.check()).resolves.toBeUndefined();
    const hostile = `${reader}"; DROP TABLE orders; --`;
    const broken = new PostgresqlLogins({ name: 'pg:broken', adminUrl, ...SERVER, database, actions: { read: [hostile] } });
    try {
      await expect(broken.check()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('no role') });
      const attempt = grant(['read']);
      await expect(broken.issue(attempt)).rejects.toBeInstanceOf(MayflyError);
      expect(await broken.listLive()).not.toContain(attempt.grantId);
      expect((await asOwner(database, (owner) => owner.query('SELECT count(*)::int AS n FROM orders'))).rows[0].n).toBeGreaterThanOrEqual(2);
    } finally {
      await broken.close();
    }
  });

  it("lists only its own logins: another resource's on the same cluster (roles are cluster-wide) is left alone", async () => {
    const elsewhere = randomUUID();
    const user = `mayfly_g_${elsewhere.replaceAll('-', '')}`;
    await asOwner(database, (owner) => owner.query(`CREATE ROLE ${user} LOGIN`));
    try {
      expect(await logins.listLive()).not.toContain(elsewhere);
    } finally {
      await asOwner(database, (owner) => owner.query(`DROP ROLE ${user}`));
    }
  });

  it('says the database is unreachable, precisely', async () => {
    const away = new PostgresqlLogins({ name: 'pg:away', adminUrl: 'postgres://postgres@127.0.0.1:1/none', ...SERVER, database, actions: { read: [reader] } });
    try {
      await expect(away.issue(grant(['read']))).rejects.toMatchObject({ code: 'ERR_DEPENDENCY_UNAVAILABLE', message: expect.stringContaining('pg:away') });
    } finally {
      await away.close();
    }
  });

  it('makes a login at once while a mass revocation is ending 100 others: ending logins has connections of its own', async () => {
    const revoked = await Promise.all(Array.from({ length: 100 }, async () => {
      const made = grant(['read']);
      await logins.issue(made);
      return made.grantId;
    }));
    const stillThere = () => asOwner('postgres', async (client) => (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1)', [revoked.map(loginName)])).rows[0]!.n);
    const destroying = Promise.all(revoked.map((grantId) => logins.destroy(grantId)));
    const newcomer = grant(['read']);
    await logins.issue(newcomer);
    const leftWhenMade = await stillThere();
    expect(await destroying).toEqual(revoked.map(() => 'destroyed'));
    expect(await stillThere()).toBe(0);
    // In one pool the newcomer's connection came only after every queued destroy had had one.
    expect(leftWhenMade, `${100 - leftWhenMade} of 100 logins ended before the newcomer's was made`).toBeGreaterThan(75);
    expect(await logins.exists(newcomer.grantId)).toBe(true);
    await logins.destroy(newcomer.grantId);
  }, 60_000);
});
