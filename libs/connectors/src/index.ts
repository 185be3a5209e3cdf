export { LOGIN_PREFIX, grantIdOfLogin, loginName, mappedTo, type CheckableLogins, type DynamicLoginKind, type IssuedLogin, type LoginGrant } from './dynamic-login.js';
// The connectors themselves are their own entry points (@mayfly/connectors/mariadb, …/postgresql,
// …/redis): importing this one loads none of their drivers (see LazyLogins).
export { LazyLogins } from './lazy-logins.js';
export { connectorFor, readAdminUrl, type ConnectedResource } from './connector-for.js';
