import { spiffeIdProblem } from './spiffe-id.js';
import { invalidArgument } from './errors.js';

/**
 * Grammar of the names Mayfly accepts. Checked at every API edge so that nothing malformed
 * reaches policy, storage or a signed token.
 */
export const LIMITS = {
  spiffeIdMaxLength: 2048,
  resourceMaxLength: 256,
  actionMaxLength: 64,
  maxActions: 32,
  taskIdMaxLength: 128,
  taskKindMaxLength: 64,
  taskReferenceMaxLength: 256,
  justificationMaxLength: 1024,
  reasonMaxLength: 512,
  tokenMaxLength: 16 * 1024,
} as const;

const RESOURCE = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+$/;
const ACTION = /^[a-z][a-z0-9_.:-]*$/;
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function requireText(field: string, value: string, maxLength: number): void {
  if (value.length === 0) throw invalidArgument(field, 'is required');
  if (value.length > maxLength) throw invalidArgument(field, `must be at most ${maxLength} characters`);
}

export function validateSpiffeId(field: string, value: string): void {
  requireText(field, value, LIMITS.spiffeIdMaxLength);
  const problem = spiffeIdProblem(value);
  if (problem) throw invalidArgument(field, `is not a SPIFFE ID: it ${problem}`);
}

export function validateResource(field: string, value: string): void {
  requireText(field, value, LIMITS.resourceMaxLength);
  if (!RESOURCE.test(value)) {
    throw invalidArgument(field, 'must look like <scheme>:<name>, e.g. "pg:orders-db" (no spaces)');
  }
}

export function validateActions(field: string, values: readonly string[]): void {
  if (values.length === 0) throw invalidArgument(field, 'at least one action is required');
  if (values.length > LIMITS.maxActions) throw invalidArgument(field, `at most ${LIMITS.maxActions} actions`);
  const seen = new Set<string>();
  for (const [i, action] of values.entries()) {
    requireText(`${field}[${i}]`, action, LIMITS.actionMaxLength);
    if (!ACTION.test(action)) {
      throw invalidArgument(`${field}[${i}]`, 'must be lower-case letters, digits, "_", ".", ":" or "-", starting with a letter');
    }
    if (seen.has(action)) throw invalidArgument(`${field}[${i}]`, `"${action}" is listed twice`);
    seen.add(action);
  }
}

export function validateTaskId(field: string, value: string): void {
  requireText(field, value, LIMITS.taskIdMaxLength);
  if (!TASK_ID.test(value)) {
    throw invalidArgument(field, 'must be letters, digits, ".", "_", ":", "/", "@" or "-"');
  }
}

export function validateOptionalText(field: string, value: string, maxLength: number): void {
  if (value.length > maxLength) throw invalidArgument(field, `must be at most ${maxLength} characters`);
  // Control characters have no business in identifiers or free text that lands in logs.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) {
    throw invalidArgument(field, 'must not contain control characters');
  }
}

/** A lower-case UUID, as Mayfly makes grant, token and event ids. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function validateUuid(field: string, value: string): void {
  if (value.length === 0) throw invalidArgument(field, 'is required');
  if (!UUID.test(value)) throw invalidArgument(field, 'must be a UUID in lower-case hex');
}

export function validateToken(field: string, value: string): void {
  requireText(field, value, LIMITS.tokenMaxLength);
}

/** ANSI escape sequences (colours, cursor movement) as terminals and loggers emit them. */
const ANSI_ESCAPES = /\u001b\[[0-9;?]*[ -\/]*[@-~]/g;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Makes free text safe to store, log and audit, instead of refusing it: ANSI escapes removed,
 * other control characters turned into spaces, the result trimmed and cut to `maxLength`
 * (ending in "…" when cut). For text whose refusal would do harm — a revocation reason must
 * never stop a revocation.
 */
export function sanitizeText(value: string, maxLength: number): string {
  const clean = value.replace(ANSI_ESCAPES, '').replace(CONTROL_CHARACTERS, ' ').trim();
  if (clean.length <= maxLength) return clean;
  return `${clean.slice(0, maxLength - 1)}…`;
}
