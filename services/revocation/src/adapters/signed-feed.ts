import { type EnvReader, REVOCATION_FEED_KEY_FILE, REVOCATION_KEYS_PATH, revocationKeysSettings } from '@mayfly/config';
import type { Logger } from '@mayfly/core';
import { feedSigner } from '@mayfly/bus';
import { certificateFiles, startKeySetServer, transportSettings } from '@mayfly/grpc';
import { loadEd25519KeyFile } from '@mayfly/keyring';

/**
 * The revocation feed's signing key, and the HTTPS endpoint edges fetch its public half from:
 * every event, marker and heartbeat is signed, and edges act on nothing else (NATS is transport).
 */
export async function startSignedFeed(env: EnvReader, host: string, log: Logger) {
  const signer = feedSigner(
    loadEd25519KeyFile(env.read(REVOCATION_FEED_KEY_FILE), 'MAYFLY_REVOCATION_FEED_KEY_FILE', () =>
      log.warn('no MAYFLY_REVOCATION_FEED_KEY_FILE: signing the revocation feed with a key that lives only as long as this process (one replica only; edges re-fetch the key)'),
    ),
  );
  const transport = transportSettings(true);
  const keys = await startKeySetServer({
    name: 'revocation feed keys',
    host,
    port: revocationKeysSettings(env).httpPort,
    log,
    documents: { [REVOCATION_KEYS_PATH]: () => JSON.stringify({ keys: [signer.publicJwk] }) },
    tls: transport.mode === 'tls' ? certificateFiles({ certFile: transport.certFile, keyFile: transport.keyFile }) : undefined,
  });
  return { signer, keys };
}
