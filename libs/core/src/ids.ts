import { createHash, randomFillSync } from 'node:crypto';

/** Random bytes drawn 4 KiB at a time: one call into OpenSSL per 256 ids, not one per id. */
const pool = Buffer.alloc(16 * 256);
let poolOffset = pool.length;
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const DASH = 0x2d;
/** The id's 36 characters, rewritten by every call. */
const text = Buffer.alloc(36);

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
  const at = poolOffset;
  poolOffset += 16;
  pool.writeUIntBE(Date.now(), at, 6);
  pool[at + 6] = 0x70 | (pool[at + 6]! & 0x0f); // version 7
  pool[at + 8] = 0x80 | (pool[at + 8]! & 0x3f); // variant 10
  // Written as text into one reused buffer and read out once: a few ids per grant, each of which
  // was a buffer view, a hex string and five slices of it joined (issue 24).
  let out = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[out++] = DASH;
    const byte = pool[at + i]!;
    text[out++] = HEX_DIGITS[byte >> 4]!;
    text[out++] = HEX_DIGITS[byte & 0x0f]!;
  }
  return text.toString('latin1', 0, 36);
}

/** Hex SHA-256, used to refer to evidence in audit records without storing it. */
export function sha256Hex(value: string | Uint8Array): string {
  return createHash('sha256').update(value).digest('hex');
}
