export {
  activeKey,
  KEY_STATES,
  parseKeyringEntry,
  publishedKeys,
  publishedUntil,
  serializeKeyringEntry,
  type Ed25519PrivateJwk,
  type KeyringEntry,
  type KeyState,
  type RetentionPolicy,
} from './keyring.js';
export { planGenerate, planPromote, planPrune, planRemove, type KeyringChange } from './rotation.js';
export { ed25519Thumbprint, generateEd25519Entry, kidOfPrivateJwk, privateKeyOf, publicJwkOf, publicKeyOf, type Ed25519PublicJwk } from './ed25519.js';
export { applyKeyringChange, readKeyringDirectory } from './keyring-directory.js';
export { loadEd25519KeyFile } from './key-file.js';
