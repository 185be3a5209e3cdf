import type { KeyObject } from 'node:crypto';
import type { Logger } from '@mayfly/core';
import {
  activeKey,
  generateEd25519Entry,
  privateKeyOf,
  publicJwkOf,
  publicKeyOf,
  publishedKeys,
  readKeyringDirectory,
  type Ed25519PublicJwk,
  type KeyringEntry,
  type RetentionPolicy,
} from '@mayfly/keyring';

/** The key new tokens are signed with. */
export interface ActiveSigningKey {
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly privateKey: KeyObject;
}

/** What the token format and the JWKS read from the keyring: never stale by more than a reload. */
export interface SigningKeys {
  active(): ActiveSigningKey;
  /** The public key for a kid, if the keyring publishes it now. */
  verificationKey(kid: string): KeyObject | undefined;
  /** The JWKS's keys now: next, active, and retired keys inside their window. */
  published(): readonly Ed25519PublicJwk[];
  /**
   * The private key of an active or retired key still published: to sign again exactly a token
   * it signed before (an idempotent retry), never a new one.
   */
  reissueKey(kid: string): KeyObject | undefined;
}

interface Snapshot {
  readonly active: ActiveSigningKey;
  readonly published: readonly Ed25519PublicJwk[];
  readonly verification: ReadonlyMap<string, KeyObject>;
  /** Private keys of the published keys that have signed (active, retired). */
  readonly reissue: ReadonlyMap<string, KeyObject>;
  /** What the snapshot was made from, to tell whether a reload changed anything. */
  readonly fingerprint: string;
}

/**
 * Issuance's signing keys. With a keyring directory (MAYFLY_SIGNING_KEYRING_DIR: a directory or
 * a mounted Kubernetes Secret shared by every replica) the keyring is re-read every
 * MAYFLY_SIGNING_KEYRING_RELOAD_MS (adapters/signing-keys.ts runs reload()): a promoted key starts signing, a new next key and the retired keys'
 * windows show in the JWKS, with no restart. A keyring that stops being valid (no active key, a
 * damaged file) is logged and ignored: the last good one stays in use. Without a directory a key
 * is made for this process alone (development), and its tokens die with it.
 */
export class SigningKeyring implements SigningKeys {
  private snapshot: Snapshot;

  private constructor(
    private readonly source: { dir: string } | { ephemeral: readonly KeyringEntry[] },
    private readonly retention: RetentionPolicy,
    private readonly log: Logger,
  ) {
    this.snapshot = this.load();
  }

  /** Loads the keyring; a keyring that cannot sign is a start-up error. */
  static open(options: { dir: string | undefined; retention: RetentionPolicy; log: Logger }): SigningKeyring {
    if (!options.dir) {
      options.log.warn('no MAYFLY_SIGNING_KEYRING_DIR: signing with a key that lives only as long as this process (development only)');
      return new SigningKeyring({ ephemeral: [{ ...generateEd25519Entry(new Date()), state: 'active' }] }, options.retention, options.log);
    }
    const keyring = new SigningKeyring({ dir: options.dir }, options.retention, options.log);
    keyring.log.info({ dir: options.dir, active: keyring.snapshot.active.kid, published: keyring.snapshot.published.map((key) => key.kid) }, 'signing keyring loaded');
    return keyring;
  }

  active(): ActiveSigningKey {
    return this.snapshot.active;
  }

  verificationKey(kid: string): KeyObject | undefined {
    return this.snapshot.verification.get(kid);
  }

  published(): readonly Ed25519PublicJwk[] {
    return this.snapshot.published;
  }

  reissueKey(kid: string): KeyObject | undefined {
    return this.snapshot.reissue.get(kid);
  }

  /** Re-reads the keyring now (a Periodic loop calls this every reload interval); keeps the last good keyring on error. */
  reload(): void {
    try {
      const next = this.load();
      if (next.fingerprint === this.snapshot.fingerprint) return;
      const before = this.snapshot;
      this.snapshot = next;
      this.log.info(
        { active: next.active.kid, previousActive: before.active.kid, published: next.published.map((key) => key.kid) },
        next.active.kid === before.active.kid ? 'signing keyring changed' : 'signing key rotated',
      );
    } catch (error) {
      this.log.error({ err: error }, 'signing keyring unreadable: still signing with the last good keyring');
    }
  }

  private load(): Snapshot {
    const where = 'dir' in this.source ? this.source.dir : 'in memory';
    const entries = 'dir' in this.source ? readKeyringDirectory(this.source.dir) : this.source.ephemeral;
    const signer = activeKey(entries, where);
    const published = publishedKeys(entries, new Date(), this.retention);
    return {
      active: { kid: signer.kid, alg: 'EdDSA', privateKey: privateKeyOf(signer) },
      published: published.map(publicJwkOf),
      verification: new Map(published.map((entry) => [entry.kid, publicKeyOf(entry)])),
      reissue: new Map(published.filter((entry) => entry.state !== 'next').map((entry) => [entry.kid, privateKeyOf(entry)])),
      fingerprint: `${signer.kid}|${published.map((entry) => `${entry.kid}:${entry.state}`).join(',')}`,
    };
  }
}
