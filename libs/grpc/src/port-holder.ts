import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * Who holds a TCP port, for the error a failed bind prints: "port 7064 is held by pid 4711 (node
 * …), an outgoing connection to 10.0.0.5:443". Linux only (/proc/net/tcp{,6} and /proc/<pid>/fd);
 * elsewhere, or when the holder belongs to a process this user cannot see, it says so.
 */
export function describePortHolder(port: number): string {
  const sockets = socketsOnPort(port);
  if (sockets === undefined) return `port ${port} is in use (its holder cannot be looked up on ${process.platform})`;
  if (sockets.length === 0) return `port ${port} is in use (no socket on it is visible now: it may have been freed already, or be held in another network namespace)`;
  const owners = ownersOf(new Set(sockets.map((socket) => socket.inode)));
  const described = sockets.slice(0, 3).map((socket) => {
    const owner = owners.get(socket.inode);
    const who = owner ? `pid ${owner.pid} (${owner.command})` : 'a process this user cannot see';
    const what = socket.state === LISTEN ? 'listening' : `a connection to ${socket.remote}`;
    return `${who}, ${what}`;
  });
  return `port ${port} is held by ${described.join('; ')}`;
}

const LISTEN = '0A';

interface PortSocket {
  readonly inode: string;
  readonly state: string;
  readonly remote: string;
}

function socketsOnPort(port: number): PortSocket[] | undefined {
  const found: PortSocket[] = [];
  let readable = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, remote, state, inode] = [fields[1], fields[2], fields[3], fields[9]];
      if (!local || !remote || !state || !inode || inode === '0') continue;
      if (Number.parseInt(local.split(':')[1] ?? '', 16) !== port) continue;
      found.push({ inode, state, remote: address(remote) });
    }
  }
  return readable ? found : undefined;
}

/** "0100007F:1538" (little-endian IPv4) → "127.0.0.1:5432"; IPv6 is shown as [v6]:port. */
function address(hex: string): string {
  const [ip = '', port = ''] = hex.split(':');
  const portNumber = Number.parseInt(port, 16);
  if (ip.length !== 8) return `[v6]:${portNumber}`;
  const bytes = ip.match(/../g)!.map((byte) => Number.parseInt(byte, 16)).reverse();
  return `${bytes.join('.')}:${portNumber}`;
}

function ownersOf(inodes: ReadonlySet<string>): Map<string, { pid: number; command: string }> {
  const owners = new Map<string, { pid: number; command: string }>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return owners;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode) && !owners.has(inode)) owners.set(inode, { pid: Number(pid), command: commandOf(pid) });
    }
    if (owners.size === inodes.size) break;
  }
  return owners;
}

function commandOf(pid: string): string {
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').replace(/\s+/g, ' ');
    return command.length > 80 ? `${command.slice(0, 77)}...` : command || '?';
  } catch {
    return '?';
  }
}
