import { describe, expect, it } from 'vitest';
import { MayflyError } from './errors.js';
import { validateActions, validateOptionalText, validateResource, validateSpiffeId, validateTaskId, validateUuid, sanitizeText } from './validation.js';

function fieldOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MayflyError);
    expect((error as MayflyError).code).toBe('ERR_INVALID_ARGUMENT');
    return (error as MayflyError).field;
  }
  return undefined;
}

describe('validation', () => {
  it('accepts well-formed SPIFFE IDs and refuses others, naming the field', () => {
    expect(fieldOf(() => validateSpiffeId('sub', 'spiffe://prod.example.com/ns/payments/sa/api'))).toBeUndefined();
    expect(fieldOf(() => validateSpiffeId('sub', 'spiffe://prod.example.com'))).toBe('sub');
    expect(fieldOf(() => validateSpiffeId('sub', 'https://prod.example.com/x'))).toBe('sub');
    expect(fieldOf(() => validateSpiffeId('sub', ''))).toBe('sub');
  });

  it('accepts resource names with a scheme and refuses spaces, quotes and bare words', () => {
    expect(fieldOf(() => validateResource('resource', 'pg:orders-db'))).toBeUndefined();
    expect(fieldOf(() => validateResource('resource', 'https://api.example.com/orders?x=1'))).toBeUndefined();
    expect(fieldOf(() => validateResource('resource', 'orders'))).toBe('resource');
    expect(fieldOf(() => validateResource('resource', "pg:orders'; DROP TABLE grants;--"))).toBe('resource');
    expect(fieldOf(() => validateResource('resource', `pg:${'a'.repeat(300)}`))).toBe('resource');
  });

  it('names the exact action at fault, and refuses duplicates and empty lists', () => {
    expect(fieldOf(() => validateActions('actions', ['read', 'write']))).toBeUndefined();
    expect(fieldOf(() => validateActions('actions', ['read', 'Write']))).toBe('actions[1]');
    expect(fieldOf(() => validateActions('actions', ['read', 'read']))).toBe('actions[1]');
    expect(fieldOf(() => validateActions('actions', []))).toBe('actions');
  });

  it('checks task ids, UUIDs and free text', () => {
    expect(fieldOf(() => validateTaskId('task.id', 'job-42/run:7'))).toBeUndefined();
    expect(fieldOf(() => validateTaskId('task.id', 'job 42'))).toBe('task.id');
    expect(fieldOf(() => validateUuid('grant_id', '0f663c9d-cd38-4dd4-8a27-82067f262298'))).toBeUndefined();
    expect(fieldOf(() => validateUuid('grant_id', '1 OR 1=1'))).toBe('grant_id');
    expect(fieldOf(() => validateOptionalText('reason', 'line\u0000break', 100))).toBe('reason');
  });
});

describe('sanitizeText', () => {
  it('removes ANSI escapes, turns control characters into spaces, and cuts to the limit', () => {
    expect(sanitizeText('\u001b[31mboom\u001b[0m: bad\u0000thing\r\n', 100)).toBe('boom: bad thing');
    const long = sanitizeText('x'.repeat(2000), 512);
    expect(long).toHaveLength(512);
    expect(long.endsWith('…')).toBe(true);
    expect(sanitizeText('   ', 10)).toBe('');
  });
});
