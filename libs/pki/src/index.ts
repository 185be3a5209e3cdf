export { ensureDevPki, mayflySpiffeId, type DevPki, type IdentityFiles } from './dev-pki.js';
export { fetchTrustingCa, httpsFetch, type HttpsFetchOptions, type JwksFetch } from './https-fetch.js';
export { WorkloadCa, type SignedSvid } from './workload-ca.js';
export { createCertificateAuthority, issueClientCertificate, type CertificateAuthority, type IssuedCertificate } from './certificate-authority.js';
