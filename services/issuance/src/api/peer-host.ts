/** The host part of a grpc-js peer ("ipv4:10.0.0.7:51234", "ipv6:[::1]:51234", "unix:/run/x"). */
export function peerHost(peer: string): string {
  const address = peer.replace(/^(ipv4|ipv6|unix):/, '');
  const bracketed = /^\[([^\]]+)\]/.exec(address);
  if (bracketed) return bracketed[1]!;
  const lastColon = address.lastIndexOf(':');
  return lastColon > 0 && address.indexOf(':') === lastColon ? address.slice(0, lastColon) : address;
}
