export { EnvReader } from './env.js';
export {
  DEFAULT_DATABASE_URL,
  DEFAULT_NATS_URL,
  DEFAULT_PORTS,
  REVOCATION_STREAM_DEFAULTS,
  SERVICE_NAMES,
  addressVariable,
  commonSettings,
  portVariable,
  revocationStreamSettings,
  serviceAddress,
  tokenIssuerSettings,
  type CommonSettings,
  type RevocationStreamSettings,
  type ServiceName,
} from './settings.js';
