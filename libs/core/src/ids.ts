import { createHash, randomFillSync } from 'node:crypto';

/** Random bytes drawn 4 KiB at a time: one call into OpenSSL per 256 ids, not one per id. */
const pool = Buffer.alloc(16 * 256);
let poolOffset = pool.length;

/**
 * A version 7 UUID (RFC 9562), used for grant, event and token ids: 48 bits of Unix time in
 * milliseconds, then 74 random bits. Ids made close in time sort close together, so every index
 * on them (grants, tokens, audit events, the outbox) takes new entries at its right-hand end
 * instead of on a random page: fewer pages touched per commit, and fewer full-page images in the
 * WAL after each checkpoint. The 74 random bits keep ids unguessable; no id is a secret anyway
 * (claim secrets and credentials are separate), and the time it reveals is the issue time a
 * token already carries.
 */
export function newId(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f); // version 7
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Hex SHA-256, used to refer to evidence in audit records without storing it. */
export function sha256Hex(value: string | Uint8Array): string {
  return createHash('sha256').update(value).digest('hex');
}
