import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Credentials are for the workload's user only. */
export const CREDENTIAL_FILE_MODE = 0o600;

/**
 * Replaces `path` with `content` so that a reader sees the old file or the new one, never half
 * of either: written beside it under a temporary name with the credential mode from the first
 * byte (never world-readable, not even for a moment), flushed, then renamed over it. A new
 * directory is made private to the workload's user.
 */
export async function writeFileAtomic(path: string, content: string, mode = CREDENTIAL_FILE_MODE): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.chmod(mode); // whatever the umask made of it
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  // The rename itself survives a crash only once the directory is flushed.
  const directory = await open(dir, 'r');
  await directory.sync().finally(() => directory.close());
}

/** Removes a credential file; one that is already gone is fine. */
export async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
