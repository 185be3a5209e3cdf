import { afterEach, describe, expect, it, vi } from 'vitest';
import { header, output } from './output.js';

afterEach(() => vi.restoreAllMocks());

function capture(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

describe('output', () => {
  it('prints aligned tables for people and nothing else in --json mode', () => {
    const lines = capture();
    const people = output(false);
    people.table([{ migration: '001-initial', applied: 'yes' }, { migration: '002', applied: 'no' }]);
    people.document({ ignored: true });
    expect(lines.join('')).toBe('MIGRATION    APPLIED\n001-initial  yes\n002          no\n');
    lines.length = 0;
    const scripts = output(true);
    scripts.say('progress');
    scripts.table([{ a: 'b' }]);
    scripts.document({ a: 'b' });
    expect(JSON.parse(lines.join(''))).toEqual({ a: 'b' });
  });

  it('spells a camelCase column as words (GRANTS ENDED, not GRANTSENDED)', () => {
    expect(header('grantsEnded')).toBe('GRANTS ENDED');
    expect(header('onStream')).toBe('ON STREAM');
    expect(header('spiffeId')).toBe('SPIFFE ID');
    const lines = capture();
    output(false).table([{ revoked: 'grant g1', grantsEnded: '1' }]);
    expect(lines[0]).toBe('REVOKED   GRANTS ENDED\n');
  });
});
