import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeFile, writeFileAtomic } from './atomic-file.js';

describe('atomic credential files', () => {
  it('replaces a file whole, owner-only, leaving no temporary file behind, whatever the umask', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mayfly-atomic-'));
    const path = join(dir, 'nested', 'token');
    const umask = process.umask(0o000);
    try {
      await writeFileAtomic(path, 'first\n');
    } finally {
      process.umask(umask);
    }
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'nested')).mode & 0o077).toBe(0);
    writeFileSync(path, 'old', { mode: 0o644 });
    await writeFileAtomic(path, 'second\n');
    expect(readFileSync(path, 'utf8')).toBe('second\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'nested'))).toEqual(['token']);
  });

  it('a reader never sees a partial file while it is replaced again and again', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'mayfly-atomic-')), 'token');
    const contents = Array.from({ length: 50 }, (_, i) => `${String(i).repeat(20_000)}\n`);
    await writeFileAtomic(path, contents[0]!);
    let reading = true;
    const torn: string[] = [];
    const reader = (async () => {
      while (reading) {
        const text = readFileSync(path, 'utf8');
        if (!contents.includes(text)) torn.push(text.slice(0, 20));
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (const content of contents) await writeFileAtomic(path, content);
    reading = false;
    await reader;
    expect(torn).toEqual([]);
  });

  it('removing a file that is already gone is fine', async () => {
    await expect(removeFile(join(tmpdir(), 'mayfly-no-such-file'))).resolves.toBeUndefined();
  });
});
