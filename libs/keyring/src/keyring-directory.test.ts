import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateEd25519Entry } from './ed25519.js';
import { serializeKeyringEntry } from './keyring.js';
import { applyKeyringChange, readKeyringDirectory } from './keyring-directory.js';

const fresh = (state: 'next' | 'active' | 'retired') => ({ ...generateEd25519Entry(new Date('2026-01-01T00:00:00Z')), state, ...(state === 'retired' ? { retiredAt: new Date('2026-01-02T00:00:00Z') } : {}) });

describe('keyring directory', () => {
  it('round-trips keys as <kid>.json files readable only by their owner', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-'));
    const active = fresh('active');
    const retired = fresh('retired');
    applyKeyringChange(dir, { write: [active, retired], remove: [] });
    expect(readdirSync(dir).sort()).toEqual([`${active.kid}.json`, `${retired.kid}.json`].sort());
    expect(statSync(join(dir, `${active.kid}.json`)).mode & 0o777).toBe(0o600);
    const read = readKeyringDirectory(dir);
    expect(read.find((entry) => entry.kid === retired.kid)).toEqual(retired);
    applyKeyringChange(dir, { write: [], remove: [retired.kid] });
    expect(readKeyringDirectory(dir).map((entry) => entry.kid)).toEqual([active.kid]);
  });

  it('reads a Kubernetes Secret volume (files behind ..data links) and skips the links', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-secret-'));
    const active = fresh('active');
    mkdirSync(join(dir, '..2026_01_01_00_00_00.1'));
    writeFileSync(join(dir, '..2026_01_01_00_00_00.1', 'signing-key-1.json'), serializeKeyringEntry(active));
    symlinkSync('..2026_01_01_00_00_00.1', join(dir, '..data'));
    symlinkSync(join('..data', 'signing-key-1.json'), join(dir, 'signing-key-1.json'));
    expect(readKeyringDirectory(dir)).toEqual([active]);
  });

  it('names the file and the fault of a key it cannot trust', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-bad-'));
    const active = fresh('active');
    const other = fresh('active');
    const file = join(dir, 'key.json');
    const stored = JSON.parse(serializeKeyringEntry(active)) as Record<string, unknown>;

    writeFileSync(file, JSON.stringify({ ...stored, jwk: { ...active.jwk, x: other.jwk.x }, kid: other.kid }));
    expect(() => readKeyringDirectory(dir)).toThrow(/key\.json: its x is not the public key of its d/);
    writeFileSync(file, JSON.stringify({ ...stored, kid: 'made-up' }));
    expect(() => readKeyringDirectory(dir)).toThrow(/key\.json: kid "made-up" is not the key's thumbprint/);
    writeFileSync(file, JSON.stringify({ ...stored, state: 'retired' }));
    expect(() => readKeyringDirectory(dir)).toThrow(/retired key needs retired_at/);
    writeFileSync(file, JSON.stringify({ ...stored, state: 'primary' }));
    expect(() => readKeyringDirectory(dir)).toThrow(/state must be one of next, active, retired/);
    writeFileSync(file, '{"kid":');
    expect(() => readKeyringDirectory(dir)).toThrow(/key\.json: not JSON/);
    expect(() => readKeyringDirectory(join(dir, 'missing'))).toThrow(/is not a directory/);
    expect(readFileSync(file, 'utf8')).toBe('{"kid":');
  });
});
