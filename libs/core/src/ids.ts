import { createHash, randomUUID } from 'node:crypto';

/** A random v4 UUID, used for grant, event and token ids. */
export function newId(): string {
  return randomUUID();
}

/** Hex SHA-256, used to refer to evidence in audit records without storing it. */
export function sha256Hex(value: string | Uint8Array): string {
  return createHash('sha256').update(value).digest('hex');
}
