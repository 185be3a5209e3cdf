/**
 * Which part of the system a process is, from its command line and name (/proc/<pid>/cmdline
 * and /proc/<pid>/comm): a Mayfly service, PostgreSQL, NATS or the OAuth peer. Pure, so the
 * parsing is tested apart from /proc.
 */
export interface ProcessGroup {
  readonly group: string;
  /**
   * For a PostgreSQL process: whose work it does. A backend serves one connection, and every
   * service connects with its own role (mayfly_issuance, mayfly_audit, …), so the role names the
   * service that made it work; PostgreSQL's own processes (WAL writer, checkpointer, autovacuum)
   * are "background".
   */
  readonly postgresFor?: string;
}

const SERVICES = ['attestation', 'decision', 'issuance', 'revocation', 'audit', 'edge-verifier'];

export function classifyProcess(command: string, name: string): ProcessGroup | undefined {
  if (name === 'postgres') return { group: 'postgresql', postgresFor: postgresWorkFor(command) };
  if (name === 'nats-server') return { group: 'nats' };
  for (const service of SERVICES) if (command.includes(`services/${service}/dist/main.js`) || command.includes(`mayfly-service.mjs\0${service}`)) return { group: service };
  if (command.includes('oauth-peer-server.js')) return { group: 'oauth-peer' };
  return undefined;
}

/**
 * A backend's process title is "postgres: [cluster: ]user database host(port) activity"; the
 * postmaster's command line is the binary's path, and a background process's title names the
 * process ("postgres: 15/main: walwriter").
 */
function postgresWorkFor(command: string): string {
  const title = command.replace(/\0/g, ' ').trim();
  if (!title.startsWith('postgres: ')) return 'background';
  const words = title.slice('postgres: '.length).split(/\s+/);
  if (words[0]?.endsWith(':')) words.shift(); // the cluster name
  const [user, , client] = words;
  if (!user || !client || !/^(\S+\(\d+\)|\[local\])$/.test(client)) return 'background';
  return user.startsWith('mayfly_') ? user.slice('mayfly_'.length) : user;
}
