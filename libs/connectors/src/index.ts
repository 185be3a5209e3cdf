export { LOGIN_PREFIX, grantIdOfLogin, loginName, mappedTo, type DynamicLoginKind, type IssuedLogin, type LoginGrant } from './dynamic-login.js';
export { MariadbLogins, type MariadbResource } from './mariadb-logins.js';
export { PostgresqlLogins, type PostgresqlResource } from './postgresql-logins.js';
export { RedisLogins, type RedisResource } from './redis-logins.js';
export { connectorFor, readAdminUrl, type CheckableLogins, type ConnectedResource } from './connector-for.js';
