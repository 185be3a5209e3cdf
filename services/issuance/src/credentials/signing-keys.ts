import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { MayflyError, type Logger } from '@mayfly/core';

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

/**
 * The issuance signing key (Ed25519). With MAYFLY_SIGNING_KEY_FILE it is read from that file,
 * or generated and written there (mode 0600) on first start; without it, a fresh key is made
 * for this process only, and tokens it signed stop verifying when the process restarts.
 * Keys are imported once at start-up, never per request.
 */
export async function loadSigningKey(file: string | undefined, log: Logger): Promise<SigningKey> {
  let privateJwk: JWK;
  if (file && existsSync(file)) {
    try {
      privateJwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
    } catch (error) {
      throw new MayflyError('ERR_CONFIG', `MAYFLY_SIGNING_KEY_FILE ${file} is not a JSON JWK: ${(error as Error).message}`);
    }
    if (privateJwk.kty !== 'OKP' || privateJwk.crv !== 'Ed25519' || !privateJwk.d) {
      throw new MayflyError('ERR_CONFIG', `MAYFLY_SIGNING_KEY_FILE ${file} must hold an Ed25519 private JWK (kty OKP, crv Ed25519, d)`);
    }
  } else {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    privateJwk = await exportJWK(pair.privateKey);
    if (file) {
      writeFileSync(file, JSON.stringify(privateJwk), { mode: 0o600 });
      log.info({ file }, 'generated a new signing key');
    } else {
      log.warn('no MAYFLY_SIGNING_KEY_FILE: using a key that lives only as long as this process');
    }
  }
  const { d: _private, ...publicFields } = privateJwk;
  const kid = await calculateJwkThumbprint(publicFields);
  const publicJwk: JWK = { ...publicFields, kid, alg: 'EdDSA', use: 'sig' };
  return {
    kid,
    alg: 'EdDSA',
    privateKey: (await importJWK({ ...privateJwk, alg: 'EdDSA' }, 'EdDSA')) as CryptoKey,
    publicKey: (await importJWK(publicJwk, 'EdDSA')) as CryptoKey,
    publicJwk,
  };
}
