export { ensureDevPki, mayflySpiffeId, type DevPki, type IdentityFiles } from './dev-pki.js';
