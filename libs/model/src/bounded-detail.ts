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
const ANY_UNSTORABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Text safe to store and display, cut to `maxLength` (ending in "…" when cut). */
export function boundText(value: string, maxLength: number): string {
  const clean = ANY_UNSTORABLE.test(value) ? value.replace(UNSTORABLE, '\ufffd') : value;
  return clean.length <= maxLength ? clean : `${clean.slice(0, maxLength - 1)}…`;
}

/**
 * Most bytes one UTF-16 unit of a string takes in JSON as UTF-8: `\uXXXX` for a lone surrogate
 * (the controls that would also take six are replaced by then).
 */
const MOST_JSON_BYTES_PER_UNIT = 6;

/**
 * A copy of `detail` with every string, array and nesting level bounded.
 *
 * Every grant bounds several details, so the walk builds its copy with plain loops and keeps an
 * upper bound of the copy's JSON size as it goes: only a detail that might be over
 * AUDIT_LIMITS.detailMaxBytes is serialised to measure it exactly (issue 24: the bounding was
 * ~9 KiB of garbage per grant).
 */
export function boundDetail(detail: Record<string, unknown>): Record<string, unknown> {
  const size = { mostBytes: 0 };
  const bounded = boundValue(detail, 0, size) as Record<string, unknown>;
  if (size.mostBytes <= AUDIT_LIMITS.detailMaxBytes) return bounded;
  const json = JSON.stringify(bounded);
  if (Buffer.byteLength(json) <= AUDIT_LIMITS.detailMaxBytes) return bounded;
  return {
    truncated: `detail was ${Buffer.byteLength(json)} bytes, over the ${AUDIT_LIMITS.detailMaxBytes}-byte limit`,
    detailDigest: createHash('sha256').update(json).digest('hex'),
    keys: Object.keys(bounded).slice(0, AUDIT_LIMITS.arrayMaxItems),
  };
}

/** Bounds `value`, adding the most bytes its JSON can take to `size`. */
function boundValue(value: unknown, depth: number, size: { mostBytes: number }): unknown {
  if (typeof value === 'string') return sizedText(boundText(value, AUDIT_LIMITS.stringMaxLength), size);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return sizedText(String(value), size);
    size.mostBytes += 24; // the longest JSON number, e.g. -1.2345678901234567e-308
    return value;
  }
  if (typeof value === 'boolean' || value === null || value === undefined) {
    size.mostBytes += 5;
    return value ?? null;
  }
  if (depth >= AUDIT_LIMITS.maxDepth) return sizedText('[nested too deep]', size);
  if (Array.isArray(value)) {
    const kept = Math.min(value.length, AUDIT_LIMITS.arrayMaxItems);
    const items: unknown[] = [];
    for (let i = 0; i < kept; i++) items.push(boundValue(value[i], depth + 1, size));
    if (value.length > AUDIT_LIMITS.arrayMaxItems) items.push(sizedText(`… ${value.length - AUDIT_LIMITS.arrayMaxItems} more`, size));
    size.mostBytes += 2 + items.length; // brackets and commas
    return items;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    const kept = Math.min(keys.length, AUDIT_LIMITS.arrayMaxItems);
    const bounded: Record<string, unknown> = {};
    for (let i = 0; i < kept; i++) {
      const key = keys[i]!;
      const boundedKey = sizedText(boundText(key, 128), size);
      const item = boundValue((value as Record<string, unknown>)[key], depth + 1, size);
      // A key named __proto__ (claims are attacker-controlled) is defined as data, never assigned.
      if (boundedKey === '__proto__') Object.defineProperty(bounded, boundedKey, { value: item, enumerable: true, writable: true, configurable: true });
      else bounded[boundedKey] = item;
    }
    size.mostBytes += 2 + 2 * kept; // braces, colons and commas
    return bounded;
  }
  return sizedText(boundText(String(value), AUDIT_LIMITS.stringMaxLength), size);
}

function sizedText(text: string, size: { mostBytes: number }): string {
  size.mostBytes += MOST_JSON_BYTES_PER_UNIT * text.length + 2;
  return text;
}
