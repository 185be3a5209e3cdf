import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@mayfly/core';
import { applyKeyringChange, generateEd25519Entry, planGenerate, planPromote, readKeyringDirectory } from '@mayfly/keyring';
import { SigningKeyring } from './signing-keyring.js';

const log = createLogger('test', { level: 'silent' });

describe('SigningKeyring', () => {
  it('refuses to start without an active key, naming the command that makes one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-empty-'));
    expect(() => SigningKeyring.open({ dir, retention: { maxTokenTtlSeconds: 60, graceSeconds: 0 }, log })).toThrow(
      /no active key: create one with `mayfly keys generate --dir/,
    );
  });

  it('keeps signing with the last good keyring when the directory is damaged, and picks up the repair', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-damaged-'));
    applyKeyringChange(dir, planGenerate([], generateEd25519Entry(new Date())));
    const keys = SigningKeyring.open({ dir, retention: { maxTokenTtlSeconds: 60, graceSeconds: 0 }, log });
    const kid = keys.active().kid;
    writeFileSync(join(dir, 'broken.json'), '{');
    keys.reload();
    expect(keys.active().kid).toBe(kid);
    rmSync(join(dir, 'broken.json'));
    applyKeyringChange(dir, planGenerate(readKeyringDirectory(dir), generateEd25519Entry(new Date())));
    applyKeyringChange(dir, planPromote(readKeyringDirectory(dir), new Date(), 0));
    keys.reload();
    expect(keys.active().kid).not.toBe(kid);
  });

  it('stops publishing a retired key when its window ends, without any file changing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyring-window-'));
    applyKeyringChange(dir, planGenerate([], generateEd25519Entry(new Date())));
    applyKeyringChange(dir, planGenerate(readKeyringDirectory(dir), generateEd25519Entry(new Date())));
    applyKeyringChange(dir, planPromote(readKeyringDirectory(dir), new Date(), 0));
    const keys = SigningKeyring.open({ dir, retention: { maxTokenTtlSeconds: 1, graceSeconds: 0 }, log });
    expect(keys.published()).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    keys.reload();
    expect(keys.published().map((key) => key.kid)).toEqual([keys.active().kid]);
  });
});
