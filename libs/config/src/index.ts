export { EnvReader } from './env.js';
export * from './ports.js';
export * from './setting.js';
export * from './registry/index.js';
export { renderSettingsTable, withSettingsTable, TABLE_BEGIN, TABLE_END } from './settings-table.js';
export {
  REVOCATION_STREAM_DEFAULTS,
  AUDIT_HEAD_STREAM_DEFAULTS,
  auditHeadStreamSettings,
  revocationKeysSettings,
  REVOCATION_KEYS_PATH,
  commonSettings,
  componentSpiffeId,
  tlsSettings,
  type TlsSettings,
  revocationStreamSettings,
  serviceAddress,
  tokenIssuerSettings,
  type CommonSettings,
  type RevocationStreamSettings,
} from './settings.js';
