export { channelCredentials, serverCredentials, spiffeIdsOf, transportSettings } from './credentials.js';
export { ALLOWED_CALLERS, authorizeCaller, componentOfMethod } from './authorization.js';
export { callUnary, connectEagerly, createClient, waitForReady, type UnaryOptions } from './client.js';
export { serverStream, unary, type CallContext } from './handlers.js';
export { answeringStream, endAnsweringStreams, type StreamCaller, type StreamedAsk } from './answering-stream.js';
export { AskingStream, StreamEndedError, type AskingStreamOptions } from './asking-stream.js';
export { closeOnSignals, exitOnStartupFailure, runService, type Closer } from './lifecycle.js';
export { LIVENESS_SERVICE, startGrpcServer, startHealthServer, type GrpcServerOptions, type RunningGrpcServer, type ServiceBinding } from './server.js';
export { checkHealth, waitForHealthy } from './health-client.js';
export { startKeySetServer, verifiedClientCertificate, type KeySetServer, type PostHandler } from './key-set-server.js';
export {
  ERROR_CODE_TRAILER,
  ERROR_FIELD_TRAILER,
  RETRY_AFTER_TRAILER,
  fromServiceError,
  isServiceError,
  toStatus,
} from './status-mapping.js';
export { CertificateFiles, certificateFiles, onCertificateFilesEvent, type CertificateFilesEvent, type CertificateMaterial, type CertificatePaths } from './certificate-files.js';
