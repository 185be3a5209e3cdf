import { createHash } from 'node:crypto';

/**
 * Limits on what an audit event may carry. Much of it is attacker-controlled text (claims of
 * evidence nobody has verified yet, task fields, error messages), and one oversized or
 * unstorable event must never hold up the others: everything is bounded where the event is made.
 */
export const AUDIT_LIMITS = {
  actorMaxLength: 512,
  stringMaxLength: 1024,
  arrayMaxItems: 64,
  maxDepth: 4,
  /** Serialised detail larger than this is replaced by a digest and a note. */
  detailMaxBytes: 16 * 1024,
} as const;

// NUL cannot be stored in PostgreSQL text or jsonb; other C0 controls are kept out of logs.
const UNSTORABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Text safe to store and display, cut to `maxLength` (ending in "…" when cut). */
export function boundText(value: string, maxLength: number): string {
  const clean = value.replace(UNSTORABLE, '\ufffd');
  return clean.length <= maxLength ? clean : `${clean.slice(0, maxLength - 1)}…`;
}

/** A copy of `detail` with every string, array and nesting level bounded. */
export function boundDetail(detail: Record<string, unknown>): Record<string, unknown> {
  const bounded = boundValue(detail, 0) as Record<string, unknown>;
  const json = JSON.stringify(bounded);
  if (Buffer.byteLength(json) <= AUDIT_LIMITS.detailMaxBytes) return bounded;
  return {
    truncated: `detail was ${Buffer.byteLength(json)} bytes, over the ${AUDIT_LIMITS.detailMaxBytes}-byte limit`,
    detailDigest: createHash('sha256').update(json).digest('hex'),
    keys: Object.keys(bounded).slice(0, AUDIT_LIMITS.arrayMaxItems),
  };
}

function boundValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return boundText(value, AUDIT_LIMITS.stringMaxLength);
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean' || value === null || value === undefined) return value ?? null;
  if (depth >= AUDIT_LIMITS.maxDepth) return '[nested too deep]';
  if (Array.isArray(value)) {
    const items = value.slice(0, AUDIT_LIMITS.arrayMaxItems).map((item) => boundValue(item, depth + 1));
    if (value.length > AUDIT_LIMITS.arrayMaxItems) items.push(`… ${value.length - AUDIT_LIMITS.arrayMaxItems} more`);
    return items;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).slice(0, AUDIT_LIMITS.arrayMaxItems);
    return Object.fromEntries(entries.map(([key, item]) => [boundText(key, 128), boundValue(item, depth + 1)]));
  }
  return boundText(String(value), AUDIT_LIMITS.stringMaxLength);
}
