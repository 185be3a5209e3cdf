export { EnvReader } from './env.js';
export {
  DEFAULT_DATABASE_URL,
  DEFAULT_METRICS_PORTS,
  DEFAULT_NATS_URL,
  DEFAULT_PORTS,
  REVOCATION_STREAM_DEFAULTS,
  SERVICE_NAMES,
  addressVariable,
  commonSettings,
  metricsPortVariable,
  portVariable,
  revocationStreamSettings,
  serviceAddress,
  tokenIssuerSettings,
  type CommonSettings,
  type RevocationStreamSettings,
  type ServiceName,
} from './settings.js';
