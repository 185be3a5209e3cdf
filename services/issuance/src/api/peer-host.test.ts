import { describe, expect, it } from 'vitest';
import { peerHost } from './peer-host.js';

describe('peerHost', () => {
  it('takes the host out of grpc-js peer strings', () => {
    expect(peerHost('ipv4:10.0.0.7:51234')).toBe('10.0.0.7');
    expect(peerHost('ipv6:[::1]:51234')).toBe('::1');
    expect(peerHost('unix:/run/mayfly.sock')).toBe('/run/mayfly.sock');
  });
});
