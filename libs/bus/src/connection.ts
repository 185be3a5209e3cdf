import { existsSync } from 'node:fs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MayflyError } from '@mayfly/core';

/**
 * NATS_URL's servers (comma-separated) and credentials: `nats://user:password@host:port`.
 * nats.js takes user and password as options, not inside the URL, so they are lifted out here.
 */
export function parseNatsUrl(url: string): { servers: string[]; user?: string; pass?: string; display: string; tls: boolean } {
  let user: string | undefined;
  let pass: string | undefined;
  let tls = false;
  const servers = url.split(',').map((server) => {
    const trimmed = server.trim();
    const withScheme = /^[a-z]+:\/\//.test(trimmed) ? trimmed : `nats://${trimmed}`;
    const parsed = new URL(withScheme);
    if (parsed.protocol === 'tls:') tls = true;
    if (parsed.username) {
      user = decodeURIComponent(parsed.username);
      pass = decodeURIComponent(parsed.password);
    }
    return `${parsed.hostname.includes(':') ? `[${parsed.hostname}]` : parsed.hostname}:${parsed.port || 4222}`;
  });
  const display = (tls ? 'tls://' : '') + servers.join(',') + (user ? ` (as ${user})` : '');
  return { servers, ...(user !== undefined ? { user, pass: pass ?? '' } : {}), display, tls };
}

/**
 * TLS to NATS: required when NATS_URL says tls:// or a CA file is given (MAYFLY_NATS_CA_FILE,
 * then only that CA is trusted); undefined for plain nats://.
 */
export function natsTls(tls: boolean, caFile: string | undefined = process.env['MAYFLY_NATS_CA_FILE'] || undefined): { caFile?: string } | undefined {
  if (caFile) {
    if (!existsSync(caFile)) throw new MayflyError('ERR_CONFIG', `MAYFLY_NATS_CA_FILE ${caFile} does not exist (the PEM of the CA that signed the NATS server's certificate)`);
    return { caFile };
  }
  return tls ? {} : undefined;
}

/**
 * Connects to NATS and keeps reconnecting for as long as the process lives: a service must ride
 * out a NATS restart, not die with it. Messages name the servers and the user, never a password.
 */
export async function connectBus(url: string, name: string, options: { waitOnFirstConnect?: boolean } = {}): Promise<NatsConnection> {
  const { servers, user, pass, display, tls } = parseNatsUrl(url);
  const tlsOptions = natsTls(tls);
  try {
    return await connect({
      servers,
      ...(user !== undefined ? { user, pass } : {}),
      ...(tlsOptions ? { tls: tlsOptions } : {}),
      name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 5_000,
      // A service that can do its main work without NATS starts without it, and connects later.
      ...(options.waitOnFirstConnect ? { waitOnFirstConnect: true } : {}),
    });
  } catch (error) {
    throw new MayflyError(
      'ERR_DEPENDENCY_UNAVAILABLE',
      `cannot reach NATS at ${display}: ${(error as Error).message}. Set NATS_URL (nats://user:password@host:port, tls://… for TLS; MAYFLY_NATS_CA_FILE names its CA) or start nats-server -js.`,
      { cause: error },
    );
  }
}

/**
 * Whether the NATS server at `url` lets a client in without credentials (the URL's own are left
 * out). False when it refuses, or cannot be reached (then connecting properly says why).
 */
export async function acceptsAnonymous(url: string): Promise<boolean> {
  const { servers, tls } = parseNatsUrl(url);
  try {
    const tlsOptions = natsTls(tls);
    const nc = await connect({ servers, name: 'mayfly-anonymous-probe', reconnect: false, timeout: 2_000, ...(tlsOptions ? { tls: tlsOptions } : {}) });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}
