import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MayflyError } from '@mayfly/core';
import { kidOfPrivateJwk } from './ed25519.js';
import { parseKeyringEntry, serializeKeyringEntry, type KeyringEntry } from './keyring.js';
import type { KeyringChange } from './rotation.js';

/**
 * A keyring kept as one `<kid>.json` file per key in a directory: a directory on disk, or a
 * Kubernetes Secret mounted as one (its keys become files; the `..data` links Kubernetes adds
 * start with a dot and are skipped).
 */
const KEY_FILE = /^[A-Za-z0-9_-]+\.json$/;

export function readKeyringDirectory(dir: string): KeyringEntry[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new MayflyError('ERR_CONFIG', `the signing keyring ${dir} is not a directory: create one with \`mayfly keys generate --dir ${dir}\``);
  }
  const entries = readdirSync(dir)
    .filter((name) => KEY_FILE.test(name))
    .sort()
    .map((name) =>
      parseKeyringEntry(readFileSync(join(dir, name), 'utf8'), join(dir, name), (jwk) => {
        try {
          return kidOfPrivateJwk(jwk);
        } catch (error) {
          throw new MayflyError('ERR_CONFIG', `signing key file ${join(dir, name)}: ${(error as Error).message}`);
        }
      }),
    );
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.kid)) throw new MayflyError('ERR_CONFIG', `the signing keyring ${dir} holds key ${entry.kid} twice`);
    seen.add(entry.kid);
  }
  return entries;
}

/**
 * Applies a change: each written key goes to a temporary file (mode 0600) renamed over
 * `<kid>.json`, so a reader never sees half a key; removed keys' files are deleted.
 */
export function applyKeyringChange(dir: string, change: KeyringChange): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const entry of change.write) {
    const file = join(dir, `${entry.kid}.json`);
    const temporary = join(dir, `.${entry.kid}.json.tmp`);
    writeFileSync(temporary, serializeKeyringEntry(entry), { mode: 0o600 });
    renameSync(temporary, file);
  }
  for (const kid of change.remove) rmSync(join(dir, `${kid}.json`), { force: true });
}
