import type { Logger } from '@mayfly/core';
import { listRevokedKeyIds, type Database, type Kysely } from '@mayfly/db';
import { Periodic } from '@mayfly/telemetry';
import { RevokedKeysFilter } from '../credentials/revoked-keys-filter.js';
import { SigningKeyring } from '../credentials/signing-keyring.js';
import type { IssuanceSettings } from '../settings.js';

/**
 * The keys issuance signs with, kept current by two loops: the keyring re-read (rotation with no
 * restart), and the keys revoked with `mayfly revoke key` read from PostgreSQL (they leave the
 * JWKS and never sign again).
 */
export async function openSigningKeys(
  db: Kysely<Database>,
  settings: IssuanceSettings,
  log: Logger,
): Promise<{ keys: RevokedKeysFilter; close: () => Promise<void> }> {
  const { dir, graceSeconds, reloadIntervalMs, revokedPollMs } = settings.signingKeys;
  const keyring = SigningKeyring.open({ dir, retention: { maxTokenTtlSeconds: settings.ttl.maxRequestTtlSeconds, graceSeconds }, log });
  const keys = new RevokedKeysFilter(keyring);
  const refreshRevoked = async (): Promise<void> => {
    const revoked = await listRevokedKeyIds(db);
    const newly = revoked.filter((kid) => !keys.isRevoked(kid));
    keys.update(revoked);
    if (newly.length > 0) log.warn({ revoked: newly }, 'signing keys revoked: no longer published or used');
  };
  await refreshRevoked();
  const loops = [
    Periodic.start({ name: 'issuance.revoked-keys', intervalMs: revokedPollMs, log }, refreshRevoked),
    ...(dir === undefined ? [] : [Periodic.start({ name: 'issuance.keyring-reload', intervalMs: reloadIntervalMs, log }, async () => keyring.reload())]),
  ];
  return { keys, close: async () => void (await Promise.all(loops.map((loop) => loop.stop()))) };
}
