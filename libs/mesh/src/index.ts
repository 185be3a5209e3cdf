export { DevIssuer, ecdsaTwin, withLowS } from './dev-issuer.js';
export { DEMO, registerDemo } from './demo-seed.js';
export { ensureDatabase, isListening, resolveInfrastructure, type Infrastructure } from './infra.js';
export { formatLogLine } from './log-format.js';
export { freePort, freePorts, localMeshOptions, startMesh, type Mesh, type MeshOptions, type MeshPorts, type MeshReplica } from './mesh.js';
export { percentile, runDemo } from './demo.js';
export { useOperatorIdentity } from './operator-identity.js';
export { printTraces } from './traces.js';
export { DEV_PEOPLE, approverEnv, devPeopleIssuer, personToken } from './dev-people.js';
