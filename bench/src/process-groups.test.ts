import { describe, expect, it } from 'vitest';
import { classifyProcess } from './process-groups.js';

// Process titles as /proc/<pid>/cmdline holds them (PostgreSQL pads its title with NULs).
const padded = (title: string) => `${title}${'\0'.repeat(40)}`;

describe('classifyProcess', () => {
  it('names the service a PostgreSQL backend works for by its connection role', () => {
    expect(classifyProcess(padded('postgres: 15/main: mayfly_issuance mayfly 127.0.0.1(52648) idle'), 'postgres')).toEqual({ group: 'postgresql', postgresFor: 'issuance' });
    expect(classifyProcess(padded('postgres: mayfly_audit mayfly 10.0.0.5(40112) INSERT'), 'postgres')).toEqual({ group: 'postgresql', postgresFor: 'audit' });
    expect(classifyProcess(padded('postgres: 15/main: postgres mayfly [local] idle'), 'postgres')).toEqual({ group: 'postgresql', postgresFor: 'postgres' });
  });

  it("counts PostgreSQL's own processes as background", () => {
    for (const title of ['postgres: 15/main: walwriter', 'postgres: 15/main: checkpointer ', 'postgres: 15/main: autovacuum worker mayfly', 'postgres: 15/main: logical replication launcher']) {
      expect(classifyProcess(padded(title), 'postgres')).toEqual({ group: 'postgresql', postgresFor: 'background' });
    }
    const postmaster = ['/usr/lib/postgresql/15/bin/postgres', '-D', '/var/lib/postgresql/15/main', ''].join('\0');
    expect(classifyProcess(postmaster, 'postgres')).toEqual({ group: 'postgresql', postgresFor: 'background' });
  });

  it('recognises the services, NATS and the OAuth peer, and nothing else', () => {
    expect(classifyProcess('/node\0--max-old-space-size=128\0/work/services/issuance/dist/main.js\0', 'node')).toEqual({ group: 'issuance' });
    expect(classifyProcess('node\0/app/mayfly-service.mjs\0edge-verifier\0', 'node')).toEqual({ group: 'edge-verifier' });
    expect(classifyProcess('nats-server\0-c\0x.conf\0', 'nats-server')).toEqual({ group: 'nats' });
    expect(classifyProcess('node\0bench/dist/oauth-peer-server.js\0', 'node')).toEqual({ group: 'oauth-peer' });
    expect(classifyProcess('bash\0-c\0sleep 1\0', 'bash')).toBeUndefined();
  });
});
