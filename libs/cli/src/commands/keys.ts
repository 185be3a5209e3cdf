import { EnvReader, MAX_TTL_SECONDS, SIGNING_KEY_RETIRE_GRACE_SECONDS } from '@mayfly/config';
import { join } from 'node:path';
import {
  applyKeyringChange,
  generateEd25519Entry,
  planGenerate,
  planPromote,
  planPrune,
  planRemove,
  publishedUntil,
  readKeyringDirectory,
  type KeyringChange,
  type RetentionPolicy,
} from '@mayfly/keyring';
import type { CommandContext } from '../command.js';

/**
 * `mayfly keys …`: issuance's signing keyring, as files in a directory (a Kubernetes Secret is
 * made from that directory; see deploy/README.md, "Rotating the signing key"). Every issuance
 * replica re-reads the keyring within MAYFLY_SIGNING_KEYRING_RELOAD_MS (default 5 s).
 */
function keyringDir(context: CommandContext): string {
  return context.flags.dir ?? process.env['MAYFLY_SIGNING_KEYRING_DIR'] ?? join(context.stateDir, 'signing-keys');
}

function seconds(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${flag} must be a whole number of seconds, not ${JSON.stringify(value)}`);
  return parsed;
}

/** Must match issuance's: the flags, else the same settings issuance reads (libs/config registry). */
function retention(context: CommandContext): RetentionPolicy {
  const env = new EnvReader(process.env, 'mayfly CLI');
  return {
    maxTokenTtlSeconds: context.flags.maxTtl === undefined ? env.read(MAX_TTL_SECONDS) : seconds(context.flags.maxTtl, '--max-ttl'),
    graceSeconds: context.flags.grace === undefined ? env.read(SIGNING_KEY_RETIRE_GRACE_SECONDS) : seconds(context.flags.grace, '--grace'),
  };
}

/** `mayfly keys list`: every key, its state, and until when the JWKS publishes it. */
export async function list(context: CommandContext): Promise<void> {
  const dir = keyringDir(context);
  const policy = retention(context);
  const rows = readKeyringDirectory(dir).map((entry) => ({
    kid: entry.kid,
    state: entry.state,
    created: entry.createdAt.toISOString(),
    retired: entry.retiredAt?.toISOString() ?? '',
    published_until: publishedUntil(entry, policy)?.toISOString() ?? (entry.state === 'retired' ? '' : 'while in the keyring'),
  }));
  if (rows.length === 0) context.out.say(`no keys in ${dir}: mayfly keys generate --dir ${dir}`);
  context.out.table(rows);
  context.out.document({ dir, keys: rows });
}

function report(context: CommandContext, dir: string, change: KeyringChange, advice: string): void {
  const rows = [...change.write.map((entry) => ({ kid: entry.kid, change: `now ${entry.state}` })), ...change.remove.map((kid) => ({ kid, change: 'removed' }))];
  if (rows.length === 0) context.out.say('nothing to change');
  context.out.table(rows);
  if (rows.length > 0) context.out.say(advice);
  context.out.document({ dir, changes: rows });
}

/** `mayfly keys generate`: the first key (active) or the next one (published, not signing). */
export async function generate(context: CommandContext): Promise<void> {
  const dir = keyringDir(context);
  const entries = readKeyringDirectoryIfAny(dir);
  const change = planGenerate(entries, generateEd25519Entry(new Date()));
  applyKeyringChange(dir, change);
  report(
    context,
    dir,
    change,
    change.write[0]?.state === 'active'
      ? 'the keyring can sign; give it to every issuance replica (MAYFLY_SIGNING_KEYRING_DIR)'
      : 'published from the next reload on; promote it once every edge has fetched the JWKS (MAYFLY_JWKS_CACHE_SECONDS, default 300 s)',
  );
}

/** `mayfly keys init`: the first active key, unless there is one (safe to run at every deploy). */
export async function init(context: CommandContext): Promise<void> {
  const dir = keyringDir(context);
  const entries = readKeyringDirectoryIfAny(dir);
  const active = entries.find((entry) => entry.state === 'active');
  if (active) {
    context.out.say(`${dir} already has an active key (${active.kid}): nothing to do`);
    context.out.document({ dir, changes: [] });
    return;
  }
  const change = planGenerate(entries, generateEd25519Entry(new Date()));
  applyKeyringChange(dir, change);
  report(context, dir, change, 'the keyring can sign; give it to every issuance replica (MAYFLY_SIGNING_KEYRING_DIR)');
}

/** `mayfly keys promote`: the next key signs, the active key retires (still published). */
export async function promote(context: CommandContext): Promise<void> {
  const dir = keyringDir(context);
  const change = planPromote(readKeyringDirectory(dir), new Date(), context.flags.minPublished === undefined ? 300 : seconds(context.flags.minPublished, '--min-published'));
  applyKeyringChange(dir, change);
  const policy = retention(context);
  report(context, dir, change, `the retired key stays published for ${policy.maxTokenTtlSeconds + policy.graceSeconds} s (longest token + grace); then run mayfly keys prune`);
}

/** `mayfly keys prune`: deletes retired keys no unexpired token can carry. */
export async function prune(context: CommandContext): Promise<void> {
  const dir = keyringDir(context);
  const change = planPrune(readKeyringDirectory(dir), new Date(), retention(context));
  applyKeyringChange(dir, change);
  report(context, dir, change, 'issuance stopped publishing these already; edges forget them within MAYFLY_JWKS_CACHE_SECONDS');
}

/** `mayfly keys remove <kid>`: deletes a key now (a compromised one); its tokens stop verifying. */
export async function remove(context: CommandContext): Promise<void> {
  const kid = context.args[0];
  if (!kid) throw new Error('usage: mayfly keys remove <kid> [--dir DIR]');
  const dir = keyringDir(context);
  const change = planRemove(readKeyringDirectory(dir), kid);
  applyKeyringChange(dir, change);
  report(context, dir, change, 'tokens signed by it are refused once issuance reloads and edges refetch the JWKS (MAYFLY_JWKS_CACHE_SECONDS)');
}

function readKeyringDirectoryIfAny(dir: string): ReturnType<typeof readKeyringDirectory> {
  try {
    return readKeyringDirectory(dir);
  } catch (error) {
    if ((error as Error).message.includes('is not a directory')) return [];
    throw error;
  }
}
