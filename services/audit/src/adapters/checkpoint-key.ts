import type { Logger } from '@mayfly/core';
import { loadEd25519KeyFile } from '@mayfly/keyring';
import { ed25519PrivateKey } from '@mayfly/model';
import type { CheckpointKey } from '../domain/checkpoint-signer.js';

/**
 * The audit service's checkpoint key (Ed25519, MAYFLY_AUDIT_CHECKPOINT_KEY_FILE: a private JWK).
 * It never goes into the database: that is what makes a signed checkpoint worth more than the
 * chain an attacker with database access could recompute. Without a file, a key for this process
 * only (development): its checkpoints still bind the chain, but verifiers must take the key from
 * the checkpoint rows.
 */
export function loadCheckpointKey(file: string | undefined, log: Logger): CheckpointKey {
  const jwk = loadEd25519KeyFile(file, 'MAYFLY_AUDIT_CHECKPOINT_KEY_FILE', () =>
    log.warn('no MAYFLY_AUDIT_CHECKPOINT_KEY_FILE: signing audit checkpoints with a key that lives only as long as this process'),
  );
  return { privateKey: ed25519PrivateKey(jwk), publicKey: jwk.x };
}
